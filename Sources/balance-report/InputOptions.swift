import ArgumentParser
import BalanceIngest
import BalanceModel
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceSupport
import Foundation

/// Options shared by both commands: how inputs are read and which period they are sorted into.
struct InputOptions: ParsableArguments {
    @Option(help: "Month (2024-03), quarter (2024-Q1) or year (2024), in Moscow time. render needs it, or --from and --to.")
    var period: String?

    @Option(help: "First day of the period (YYYY-MM-DD, inclusive; with --to).")
    var from: String?

    @Option(help: "Last day of the period (YYYY-MM-DD, inclusive; with --from).")
    var to: String?

    @Option(name: .customLong("input-offset"), help: "UTC offset of timestamps written without one (default +03:00, or the profile's input_offset).")
    var inputOffset: String?

    @Option(help: "Import profile of an export layout: a built-in one by name (focus, yandex-cloud-partner; see 'balance-report profiles') or a YAML file.")
    var profile: String?

    @Option(help: "Encoding of CSV inputs: utf-8 (default) or cp1251 (Windows-1251, told apart from UTF-8 per file).", completion: .list(["utf-8", "cp1251"]))
    var encoding: String?

    @Option(name: .customLong("map"), help: "Rename an input column or XML field: --map 'Сумма=amount' (repeatable).")
    var mappings: [String] = []

    @Flag(help: "Print nothing but errors on stderr (and no progress line).")
    var quiet = false

    @Option(help: "Threads the reports are built and rendered on (default: the number of active processors; 1: single-threaded). The output is the same whatever the number.")
    var jobs: Int?

    @Option(name: .customLong("runway-days"), help: "Days of recent spend the runway's daily rate is measured over: the last N days of each client's visible window that it was attached on, divided by the days counted.")
    var runwayDays: Int64 = Runway.defaultDays

    /// `--jobs`, or every active processor.
    var workers: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }

    @Argument(help: "Export files (CSV or XML), all of a run at once.", completion: .file(extensions: ["csv", "xml"]))
    var files: [String] = []

    func resolvePeriod(required: Bool) throws -> ReportPeriod? {
        do {
            switch (period, from, to) {
            case (let month?, nil, nil): return try ReportPeriod.parse(month)
            case (nil, let first?, let last?): return try ReportPeriod.parse(from: first, to: last)
            case (nil, nil, nil):
                if required { throw ValidationError("give --period or --from and --to") }
                return nil
            default: throw ValidationError("give either --period or both --from and --to")
            }
        } catch let error as Diagnostic {
            throw ValidationError(error.message)
        }
    }

    func ingestOptions() throws -> IngestOptions {
        var offset: Int64? = nil
        if let inputOffset {
            do { offset = try TimestampParser.parseOffset(inputOffset) } catch {
                throw ValidationError("--input-offset: \(error.message)")
            }
        }
        var textEncoding: TextEncoding? = nil
        if let encoding {
            guard let named = TextEncoding.named(encoding) else {
                throw ValidationError("--encoding is utf-8 or cp1251, got '\(encoding)'")
            }
            textEncoding = named
        }
        var importProfile: ImportProfile? = nil
        if let profile {
            do { importProfile = try ImportProfile.resolve(profile) } catch {
                // A missing or unreadable file fails as every missing file does; a wrong profile is a usage error.
                guard error.unreadable else { throw ValidationError("--profile: \(error.message)") }
                Diagnostics.error("--profile: \(error.message)")
                throw Reported(code: ExitStatus.dataError)
            }
        }
        var renames: [String: String] = [:]
        for mapping in mappings {
            guard let (from, to) = HeaderMapping.parsePair(mapping) else {
                throw ValidationError("--map takes FROM=TO, got '\(mapping)'")
            }
            renames[from] = to
        }
        return IngestOptions(profile: importProfile, inputOffsetSeconds: offset, renames: renames, encoding: textEncoding)
    }

    func validateFiles() throws {
        if files.isEmpty { throw ValidationError("name the export files to read") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs is a number of threads, 1 or more") }
        if runwayDays < 1 || runwayDays > 3660 { throw ValidationError("--runway-days is a number of days, 1 to 3660") }
    }

    /// The request of the command line, once it is known to be right (`periodRequired`: render's rule).
    func analysisRequest(periodRequired: Bool) throws -> AnalysisRequest {
        try validateFiles()
        return AnalysisRequest(inputs: files, options: try ingestOptions(), period: try resolvePeriod(required: periodRequired),
                               runwayDays: runwayDays, workers: workers)
    }

    /// Starts the progress line over the inputs and returns the observer of the run.
    func observer() -> CommandObserver {
        ProgressLine.shared.begin(quiet: quiet, inputs: files)
        return CommandObserver(quiet: quiet)
    }
}
