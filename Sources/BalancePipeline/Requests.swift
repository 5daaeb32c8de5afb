import BalanceIngest
import BalanceModel
import BalanceRender
import BalanceReport
import BalanceSupport

/// What to read and how: the part every run shares (render, validate).
public struct AnalysisRequest: Sendable {
    public var inputs: [String]
    public var options: IngestOptions
    /// The period to report; `nil` (validate without one): the Moscow days the transactions span.
    public var period: ReportPeriod?
    /// Days of recent spend the runway's daily rate is measured over.
    public var runwayDays: Int64
    /// Threads the stages may use (1: single-threaded); the result is the same whatever the number.
    public var workers: Int
    /// The currencies of the whole run when this one is a part of it (a partner set of the split
    /// route, `render --run-currencies`): the report is in all of them.
    public var runCurrencies: [String] = []

    public init(inputs: [String], options: IngestOptions = IngestOptions(), period: ReportPeriod? = nil,
                runwayDays: Int64 = Runway.defaultDays, workers: Int = processorCount) {
        self.inputs = inputs
        self.options = options
        self.period = period
        self.runwayDays = runwayDays
        self.workers = workers
    }
}

/// Everything `render` needs: the analysis, then how the output is rendered and published.
public struct RenderRequest: Sendable {
    public enum Templates: Sendable, Equatable {
        /// The templates built into the binary for the request's language.
        case builtIn
        /// A folder of edited templates, as `templates export` writes them.
        case folder(String)
    }

    public enum ComparisonSource: Sendable, Equatable {
        /// The period of equal length before, from the same inputs.
        case previousPeriod
        /// An earlier output of the tool, of a period before this one.
        case earlierOutput(String)
    }

    /// `--eml`: a message per partner.
    public struct Mail: Sendable {
        /// `--contacts`: the partners' addresses (`partner_id,email,name`).
        public var contactsPath: String?
        public var from: MailAddress?
        public var date: Instant?

        public init(contactsPath: String? = nil, from: MailAddress? = nil, date: Instant? = nil) {
            self.contactsPath = contactsPath
            self.from = from
            self.date = date
        }
    }

    public var analysis: AnalysisRequest
    public var out: String
    public var templates: Templates = .builtIn
    public var dialect: CSVDialect = .standard
    public var language: ReportLanguage = .ru
    /// Render the valid records and list the rejected ones in `rejects.csv`.
    public var allowRejects = false
    /// A period that holds none of the transactions read is an error rather than a warning.
    public var failOnEmpty = false
    public var xlsx = false
    public var mail: Mail? = nil
    public var comparison: ComparisonSource? = nil
    /// The Spark route: also write this run's summary part (JSON) here, for `merge-parts`.
    public var summaryPart: String? = nil

    public init(analysis: AnalysisRequest, out: String) {
        self.analysis = analysis
        self.out = out
    }
}

/// What a finished render did.
public struct RenderOutcome {
    public var writtenFiles: Int
    /// The run's figures, kept so that the caller decides when they are freed (a process that
    /// ends anyway need not free a million records one by one).
    public var analysis: Pipeline.Analysis
}
