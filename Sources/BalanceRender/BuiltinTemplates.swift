import BalanceReport
import BalanceModel
import BalanceSupport
/// One default template as compiled into the binary.
struct BuiltinTemplate: Sendable {
    let language: String
    let file: String
    let source: String
}

/// The default templates of every language, compiled into the binary, so that an installed or
/// copied `balance-report` renders from any folder with nothing beside it.
///
/// They are generated Swift source (`BuiltinTemplates+Sources.swift`, written by
/// `scripts/embed-templates.py` from `Templates/<lang>/`), not SwiftPM resources: on Linux SwiftPM
/// puts resources in a `balance-report_BalanceReport.resources` folder beside the binary and finds
/// them there at run time, so a binary copied elsewhere without that folder would lose its
/// templates. A string literal travels with the binary. `Templates/` stays the source finance
/// edits; `BuiltinTemplatesTests` fails while the generated file differs from it by one byte.
public enum BuiltinTemplates {
    /// The text of `file` in `language`, or `nil` when there is no such template.
    public static func source(_ language: ReportLanguage, _ file: String) -> String? {
        all.first { $0.language == language.rawValue && $0.file == file }?.source
    }

    /// `(language folder, file name)` of every embedded template, as generated.
    public static var files: [(language: String, file: String)] {
        all.map { ($0.language, $0.file) }
    }
}
