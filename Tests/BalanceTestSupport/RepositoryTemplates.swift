import BalanceRender
import Foundation

/// The templates of the repository's `Templates/<lang>/` folder (the source of the built-in sets).
enum RepositoryTemplates {
    static func set(_ language: ReportLanguage) throws -> TemplateSet {
        let folder = Repository.root.appendingPathComponent("Templates/\(language.rawValue)")
        return try TemplateSet(dialect: .standard, language: language) { name in
            try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        }
    }
}

/// The golden files of `sample-data/` (re-recorded by the golden tests, read by the page checks).
enum GoldenFiles {
    static let root = Repository.root.appendingPathComponent("Tests/BalanceTestSupport/Fixtures/golden")
}
