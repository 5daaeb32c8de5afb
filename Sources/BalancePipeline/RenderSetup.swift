import BalanceIngest
import BalanceModel
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceSupport
import Foundation

/// The render-side pieces of `Pipeline.render`: what is loaded and checked before any export is
/// read, and the writing and publishing after the report is built.
enum RenderSetup {
    /// The compiled templates and, with `--eml`, how the messages are made.
    struct Rendering {
        var templates: TemplateSet
        var files: TemplateFiles
        var mail: EmailOptions?
    }

    /// The template files (a folder's or the built-in ones) and the set compiled from them; what is
    /// wrong with them as diagnostics naming the file and line.
    static func templates(_ source: RenderRequest.Templates, language: ReportLanguage,
                          dialect: CSVDialect) throws(RunError) -> (set: TemplateSet, files: TemplateFiles) {
        let files: TemplateFiles
        do {
            switch source {
            case .builtIn: files = TemplateFiles.builtIn(language)
            case .folder(let path): files = try TemplateFiles.folder(path)
            }
        } catch {
            throw RunError(error.messages.map { Diagnostic("--templates: " + $0) })
        }
        do {
            return (try TemplateSet(dialect: dialect, language: language) { files.source($0) }, files)
        } catch let error as TemplateError {
            throw RunError(templateDiagnostic(error, files: files))
        } catch {
            throw RunError("\(error)")
        }
    }

    /// Loads and compiles the templates and, with `--eml`, reads the contacts.
    static func load(_ request: RenderRequest) throws(RunError) -> Rendering {
        let (set, files) = try templates(request.templates, language: request.language, dialect: request.dialect)
        do throws(any Error) {
            var mail: EmailOptions? = nil
            if let options = request.mail {
                let text = try EmailOptions.compileTextTemplate(files.source(EmailOptions.textTemplateName))
                let contacts = try options.contactsPath.map(readContacts) ?? [:]
                mail = EmailOptions(textTemplate: text, contacts: contacts, from: options.from, date: options.date)
            }
            return Rendering(templates: set, files: files, mail: mail)
        } catch let error as TemplateError {
            throw RunError(templateDiagnostic(error, files: files))
        } catch let error as Diagnostic {
            throw RunError(error)
        } catch {
            throw RunError("\(error)")
        }
    }

    static func readContacts(_ path: String) throws(Diagnostic) -> [ByteKey: [MailAddress]] {
        do { return try PartnerContacts.read(path: path) } catch { throw Diagnostic("--contacts: \(error.message)") }
    }

    static func templateDiagnostic(_ error: TemplateError, files: TemplateFiles) -> Diagnostic {
        Diagnostic("template \(files.location(of: error.template)):\(error.line): \(error.message)")
    }

    /// A folder the tool must not replace is refused before anything is read; so is an earlier
    /// output (`--compare-with`) that is not one, or not of an earlier period.
    static func checkOutput(_ request: RenderRequest) throws(RunError) {
        do {
            try OutputFolder.check(request.out, inputs: request.analysis.inputs)
            if case .earlierOutput(let folder)? = request.comparison, let period = request.analysis.period {
                try PreviousOutput.check(folder, current: period)
            }
        } catch {
            throw RunError(error)
        }
    }

    /// How many files the run writes: per partner the index, the snapshot (HTML and CSV), services
    /// and daily, the changes with a comparison, the workbooks, and two pages per client; then
    /// `summary.json`, `rejects.csv`, `unknown-clients.csv` and the messages.
    static func expectedFiles(_ report: RunReport, request: RenderRequest, mail: Bool) -> Int {
        let pages = report.partners.reduce(0) { $0 + 5 + ($1.hasComparison ? 1 : 0) + (request.xlsx ? 3 : 0) + 2 * $1.clientCount }
        let extras = 1 + (request.allowRejects ? 1 : 0) + (report.summary.unknownClients.isEmpty ? 0 : 1) + (mail ? report.partners.count : 0)
        return pages + extras
    }

    /// Renders every file into a staging folder beside `--out` and publishes it in one step.
    static func write(_ report: RunReport, analysis: Pipeline.Analysis, rendering: Rendering, request: RenderRequest,
                      observer: any RunObserver) throws(RunError) -> Int {
        do throws(any Error) {
            let writer = try ReportWriter(destination: request.out, digestsEveryFile: request.summaryPart != nil)
            observer.willWrite(files: expectedFiles(report, request: request, mail: rendering.mail != nil))
            let renderer = ReportRenderer(templates: rendering.templates, dialect: request.dialect)
            let emit: @Sendable (String, [UInt8]) throws -> Void = { path, bytes in
                try writer.write(path, bytes)
                observer.wroteFile()
            }
            try renderer.render(report, includeRejects: request.allowRejects, xlsx: request.xlsx, workers: request.analysis.workers, emit: emit)
            if let mail = rendering.mail {
                try renderer.renderEmails(report, options: mail, emit: emit)
                if let contacts = request.mail?.contactsPath {
                    for partner in report.partners where mail.contacts[ByteKey(partner.partnerID)] == nil {
                        observer.report(.note("partner \(partner.partnerID) is not in \(contacts): its report.eml has no To:"))
                    }
                }
            }
            observer.stageDone(.render)
            if let summaryPart = request.summaryPart {
                let out = request.out
                let absolute = out.hasPrefix("/") ? out : FileManager.default.currentDirectoryPath + "/" + out
                // A part the split route cannot take (a run of several currencies) is said as such.
                let part = try PartFiles.renderPart(analysis, output: absolute)
                do {
                    try part.write(to: URL(fileURLWithPath: summaryPart))
                } catch {
                    throw Diagnostic("cannot write \(summaryPart): \(error.localizedDescription)")
                }
            }
            observer.willPublish()
            try writer.publish(period: report.period)
            observer.stageDone(.publish)
            return writer.writtenFiles
        } catch {
            LiveStaging.waitIfEnding()
            if let error = error as? TemplateError { throw RunError(templateDiagnostic(error, files: rendering.files)) }
            if let error = error as? Diagnostic { throw RunError(error) }
            throw RunError("\(error)")
        }
    }
}
