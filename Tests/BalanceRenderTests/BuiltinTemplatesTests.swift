@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Foundation
import Testing

/// The templates compiled into the binary are Templates/ byte for byte, and a folder of edited
/// templates is checked as a whole before anything is read.
@Suite("Render: built-in templates and template folders")
struct BuiltinTemplatesTests {
    static let templatesRoot = Repository.root.appendingPathComponent("Templates")

    @Test("the built-in templates are Templates/<lang>/ byte for byte (else: run scripts/embed-templates.py)")
    func builtInMatchesTemplatesFolder() throws {
        var onDisk: [String] = []
        for language in try FileManager.default.contentsOfDirectory(atPath: Self.templatesRoot.path).sorted() {
            let folder = Self.templatesRoot.appendingPathComponent(language)
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".mustache") {
                onDisk.append(language + "/" + file)
                let bytes = try Data(contentsOf: folder.appendingPathComponent(file))
                let lang = try #require(ReportLanguage(rawValue: language), "Templates/\(language) is not a language the tool knows")
                let embedded = BuiltinTemplates.source(lang, file)
                #expect(embedded.map { Data($0.utf8) } == bytes,
                        "Templates/\(language)/\(file) differs from the built-in copy: run scripts/embed-templates.py")
            }
        }
        #expect(BuiltinTemplates.files.map { $0.language + "/" + $0.file }.sorted() == onDisk.sorted(),
                "the built-in set is not Templates/: run scripts/embed-templates.py")
        for language in ReportLanguage.allCases {
            for name in TemplateFiles.names {
                #expect(BuiltinTemplates.source(language, name) != nil, "Templates/\(language.rawValue)/\(name) is missing")
            }
        }
    }

    @Test("the generator agrees: scripts/embed-templates.py --check")
    func generatorCheck() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root.appendingPathComponent("scripts/embed-templates.py").path, "--check"]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
    }

    /// A fresh copy of the built-in Russian set in a temporary folder.
    func exported() throws -> (TemporaryFolder, String) {
        let temp = try TemporaryFolder()
        let folder = temp.url.appendingPathComponent("templates").path
        _ = try TemplateFiles.builtIn(.ru).write(to: folder)
        return (temp, folder)
    }

    func problems(_ folder: String) -> [String] {
        do {
            _ = try TemplateFiles.folder(folder)
            return []
        } catch {
            return error.messages
        }
    }

    @Test("an exported set is the built-in one and loads back unchanged")
    func exportRoundTrip() throws {
        for language in ReportLanguage.allCases {
            let temp = try TemporaryFolder()
            defer { temp.cleanup() }
            let folder = temp.url.appendingPathComponent("t").path
            let written = try TemplateFiles.builtIn(language).write(to: folder)
            #expect(written.count == 12)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == TemplateFiles.names.sorted())
            let loaded = try TemplateFiles.folder(folder)
            #expect(loaded.origin == .folder(folder))
            for name in TemplateFiles.names {
                #expect(loaded.source(name) == BuiltinTemplates.source(language, name))
                #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) == Data(BuiltinTemplates.source(language, name)!.utf8))
            }
        }
    }

    @Test("export never overwrites: one file already there and nothing is written")
    func exportRefusesToOverwrite() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let folder = temp.url.appendingPathComponent("t")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: folder.appendingPathComponent("daily.csv.mustache"))
        let error = #expect(throws: RunError.self) { try TemplateFiles.builtIn(.ru).write(to: folder.path) }
        #expect(error?.messages == ["\(folder.path) already holds daily.csv.mustache; nothing written (export never overwrites a file: give a new or empty folder)"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["daily.csv.mustache"])
        #expect(try String(contentsOf: folder.appendingPathComponent("daily.csv.mustache"), encoding: .utf8) == "mine")
        // A folder whose parent is missing is not made up.
        #expect(throws: RunError.self) { try TemplateFiles.builtIn(.ru).write(to: temp.url.appendingPathComponent("no/such").path) }
    }

    @Test("a missing file is named")
    func missingFile() throws {
        let (temp, folder) = try exported()
        defer { temp.cleanup() }
        try FileManager.default.removeItem(atPath: folder + "/daily.csv.mustache")
        try FileManager.default.removeItem(atPath: folder + "/email.txt.mustache")
        #expect(problems(folder) == ["\(folder): missing daily.csv.mustache, email.txt.mustache (`balance-report templates export DIR` writes a complete set to edit)"])
    }

    @Test("a folder exported before changes.csv.mustache existed still loads, with the built-in one")
    func folderFromBefore() throws {
        let (temp, folder) = try exported()
        defer { temp.cleanup() }
        try FileManager.default.removeItem(atPath: folder + "/changes.csv.mustache")
        try FileManager.default.removeItem(atPath: folder + "/invoices.csv.mustache")
        #expect(problems(folder) == [])
        let files = try TemplateFiles.folder(folder)
        #expect(files.source("changes.csv.mustache") == BuiltinTemplates.source(.en, "changes.csv.mustache"))
        #expect(files.source("invoices.csv.mustache") == BuiltinTemplates.source(.en, "invoices.csv.mustache"))
        // Messages name where the stand-in came from, not a file the folder does not have.
        #expect(files.location(of: "changes.csv.mustache") == "built-in en/changes.csv.mustache")
        #expect(files.location(of: "index.html.mustache") == folder + "/index.html.mustache")
        #expect(TemplateFiles.addedLater.allSatisfy { BuiltinTemplates.source(.ru, $0)!.split(separator: "\n").dropFirst()
            == BuiltinTemplates.source(.en, $0)!.split(separator: "\n").dropFirst() }, "a file added later must render alike in both languages")
    }

    @Test("a template file the tool does not use (a misspelt name) is named; other files are left alone")
    func unknownFile() throws {
        let (temp, folder) = try exported()
        defer { temp.cleanup() }
        try FileManager.default.copyItem(atPath: folder + "/client.html.mustache", toPath: folder + "/clients.html.mustache")
        try Data("notes".utf8).write(to: URL(fileURLWithPath: folder + "/README.txt"))
        let found = problems(folder)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("\(folder)/clients.html.mustache: not a template balance-report uses (it uses index.html.mustache,") == true, "\(found)")
    }

    @Test("a name the built-in template does not use is named with its file and line, even in a section the data never opens")
    func unknownName() throws {
        let (temp, folder) = try exported()
        defer { temp.cleanup() }
        try Data("client_id\n{{#daily}}\n{{^daily}}{{clientid}}{{/daily}}\n{{/daily}}\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/daily.csv.mustache"))
        #expect(problems(folder) == ["\(folder)/daily.csv.mustache:3: unknown name 'clientid' (daily.csv.mustache can use: client_id, currency, daily, date, net, service, several_currencies)"])
        // A name of another template is not one of this one's.
        try Data("{{partner_id}}\n".utf8).write(to: URL(fileURLWithPath: folder + "/daily.csv.mustache"))
        #expect(problems(folder).first?.hasPrefix("\(folder)/daily.csv.mustache:1: unknown name 'partner_id'") == true)
        // A syntax error is named the same way.
        try Data("{{#daily}}\n".utf8).write(to: URL(fileURLWithPath: folder + "/daily.csv.mustache"))
        #expect(problems(folder).first?.hasPrefix("\(folder)/daily.csv.mustache:1:") == true, "\(problems(folder))")
    }

    @Test("the vocabulary of each file is what its built-in templates use, in either language")
    func vocabulary() {
        let daily = TemplateFiles.vocabulary[TemplateFiles.index(of: "daily.csv.mustache")!]
        #expect(daily == ["client_id", "currency", "daily", "date", "net", "service", "several_currencies"])
        for (index, name) in TemplateFiles.names.enumerated() {
            #expect(!TemplateFiles.vocabulary[index].isEmpty, "\(name)")
        }
    }

    @Test("a template that is not a regular file, too large or not UTF-8 is refused, never read until it ends")
    func unreadableFiles() throws {
        let (temp, folder) = try exported()
        defer { temp.cleanup() }
        let target = folder + "/index.html.mustache"
        try FileManager.default.removeItem(atPath: target)
        try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: "/dev/zero")
        #expect(problems(folder) == ["\(target): not a regular file (a symbolic link: templates are never read through a link)"])
        try FileManager.default.removeItem(atPath: target)
        #expect(mkfifo(target, 0o600) == 0)
        #expect(problems(folder) == ["\(target): not a regular file"])
        try FileManager.default.removeItem(atPath: target)
        try Data(repeating: UInt8(ascii: "a"), count: TemplateFiles.maxBytes + 1).write(to: URL(fileURLWithPath: target))
        #expect(problems(folder) == ["\(target): a template may not be larger than 4 MiB"])
        try Data([0x3C, 0xFF, 0x3E]).write(to: URL(fileURLWithPath: target))
        #expect(problems(folder) == ["\(target): not valid UTF-8"])
        #expect(problems(temp.url.appendingPathComponent("nope").path) == ["\(temp.url.appendingPathComponent("nope").path): cannot open: No such file or directory"])
        #expect(problems(target).first?.hasSuffix("not a folder (give the folder `balance-report templates export DIR` writes)") == true)
    }
}
