import ArgumentParser
import BalanceIngest
import BalanceModel
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceSupport
import Foundation

/// `balance-report profiles`: the built-in import profiles, one line each; `--show NAME` prints one.
struct Profiles: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the built-in import profiles (--profile NAME), or print one.")

    @Option(help: "Print the YAML of this built-in profile (a starting point for your own).")
    var show: String?

    func run() throws {
        if let show {
            guard let entry = BuiltInProfiles.named(show) else {
                Diagnostics.error("no built-in profile \(show) (built in: \(BuiltInProfiles.names.joined(separator: ", ")))")
                throw Reported(code: ExitStatus.usage)
            }
            print(entry.yaml)
            return
        }
        for entry in BuiltInProfiles.all {
            let summary = (try? ImportProfile.parse(entry.yaml, path: entry.name))?.summary ?? ""
            print(entry.name.padding(toLength: 22, withPad: " ", startingAt: 0) + summary)
        }
    }
}

