import ArgumentParser
import BalanceIngest
import BalanceModel
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceSupport
import Foundation

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check export files and print the run summary; write nothing.")

    @OptionGroup var input: InputOptions

    func validate() throws {
        DeferredValidation.run(Validate.self) {
            try input.validateFiles()
            _ = try input.resolvePeriod(required: false)
        }
    }

    func run() throws {
        let request = try input.analysisRequest(periodRequired: false)
        do {
            let analysis = try Pipeline.validate(request, observer: input.observer())
            withExtendedLifetime(analysis) { Foundation.exit(0) }
        } catch {
            throw Diagnostics.fail(error)
        }
    }
}

