import BalanceReport
import BalanceModel
import BalanceSupport
import Glibc

/// The template files of a run: the set built into the binary for a language, or a folder of
/// edited copies (`--templates DIR`, as `balance-report templates export DIR` writes them).
///
/// A folder is checked as a whole before any export is read: every file the tool needs must be
/// there, no `*.mustache` file may have a name the tool does not use (a misspelt file name would
/// otherwise be ignored while the default it was meant to replace goes on being used, or be
/// missing), and every name a template uses must be one the built-in template of that file uses.
/// That last check is static, so a misspelt name inside a section the sample data never opens is
/// found too; the render-time lookup (`unknown name`) stays as the second guard.
public struct TemplateFiles: Sendable {
    /// Every file of a set: the eleven report templates and the e-mail text, in this order.
    public static let names: [String] = TemplateSet.fileNames + [EmailOptions.textTemplateName]

    /// Files added after a folder of edited copies may have been exported: a folder without one
    /// uses the built-in file (the same in both languages), so the edits of a folder exported
    /// before still render. Every other file must be there.
    public static let addedLater: [String] = ["changes.csv.mustache", "unknown-clients.csv.mustache", "invoices.csv.mustache"]

    /// Largest template file read: the shipped ones are about 11 KB.
    static let maxBytes = 4 << 20

    public enum Origin: Sendable, Equatable {
        case builtIn(ReportLanguage)
        case folder(String)
    }

    public let origin: Origin
    /// The text of each of `names`, in the same order.
    private let sources: [String]
    /// The files of `addedLater` a folder did not have, taken from the built-in set.
    private var fromBuiltIn: [String] = []

    /// The set compiled into the binary for `language`.
    public static func builtIn(_ language: ReportLanguage) -> TemplateFiles {
        TemplateFiles(origin: .builtIn(language), sources: names.map { name in
            guard let source = BuiltinTemplates.source(language, name) else {
                preconditionFailure("Templates/\(language.rawValue)/\(name) is not built in: run scripts/embed-templates.py")
            }
            return source
        })
    }

    /// The text of `name`, one of `names`.
    public func source(_ name: String) -> String {
        guard let index = TemplateFiles.index(of: name) else { preconditionFailure("\(name) is not a template file") }
        return sources[index]
    }

    /// Where `name` comes from, for messages: `DIR/index.html.mustache` or `built-in ru/index.html.mustache`.
    public func location(of name: String) -> String {
        switch origin {
        case .builtIn(let language): return "built-in \(language.rawValue)/\(name)"
        case .folder(let path):
            // A message about a file the folder lacks names the built-in file that stood in.
            if fromBuiltIn.contains(name) { return "built-in \(ReportLanguage.en.rawValue)/\(name)" }
            return TemplateFiles.join(path, name)
        }
    }

    /// Reads and checks the set in `path`.
    public static func folder(_ path: String) throws(RunError) -> TemplateFiles {
        var info = stat()
        guard stat(path, &info) == 0 else { throw RunError("\(path): cannot open: \(FileSystem.lastError)") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw RunError("\(path): not a folder (give the folder `balance-report templates export DIR` writes)")
        }
        guard let dir = opendir(path) else { throw RunError("\(path): cannot open: \(FileSystem.lastError)") }
        var entries: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            entries.append(name)
        }
        closedir(dir)
        entries.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }

        var problems: [String] = []
        for entry in entries where entry.utf8.reversed().starts(with: ".mustache".utf8.reversed()) && index(of: entry) == nil {
            problems.append("\(join(path, entry)): not a template balance-report uses (it uses \(names.joined(separator: ", ")))")
        }
        let has = { (name: String) in entries.contains { $0.utf8.elementsEqual(name.utf8) } }
        let missing = names.filter { name in !has(name) && !addedLater.contains(name) }
        if !missing.isEmpty {
            problems.append("\(path): missing \(missing.joined(separator: ", ")) (`balance-report templates export DIR` writes a complete set to edit)")
        }
        guard problems.isEmpty else { throw RunError(messages: problems) }

        var sources: [String] = []
        for name in names {
            if !has(name) {
                sources.append(BuiltinTemplates.source(.en, name)!)
                continue
            }
            do { sources.append(try readText(join(path, name))) } catch { problems.append(contentsOf: error.messages) }
        }
        guard problems.isEmpty else { throw RunError(messages: problems) }
        var files = TemplateFiles(origin: .folder(path), sources: sources)
        files.fromBuiltIn = addedLater.filter { !has($0) }
        try files.checkNames()
        return files
    }

    /// Every name each template uses is one the built-in templates of that file use (in any language).
    func checkNames() throws(RunError) {
        var problems: [String] = []
        for (index, name) in TemplateFiles.names.enumerated() {
            let template: Template
            do { template = try Template(name: name, source: sources[index], contentType: TemplateFiles.checkType(name)) } catch {
                problems.append("\(location(of: name)):\(error.line): \(error.message)")
                continue
            }
            let known = TemplateFiles.vocabulary[index]
            var reported: [String] = []
            for (used, line) in template.usedNames
            where !known.contains(where: { $0.utf8.elementsEqual(used.utf8) }) && !reported.contains(where: { $0.utf8.elementsEqual(used.utf8) }) {
                reported.append(used)
                problems.append("\(location(of: name)):\(line): unknown name '\(used)' (\(name) can use: \(known.joined(separator: ", ")))")
            }
        }
        guard problems.isEmpty else { throw RunError(messages: problems) }
    }

    /// Writes the set into `folder` (created when missing; its parent must exist) as editable copies,
    /// refusing, before writing anything, when any of the files is already there. Returns the paths
    /// written. A failure part-way removes the files this call wrote, and the folder if it made it.
    public func write(to folder: String) throws(RunError) -> [String] {
        var createdFolder = false
        if mkdir(folder, 0o777) == 0 {
            createdFolder = true
        } else if errno != EEXIST {
            throw RunError("\(folder): cannot create: \(FileSystem.lastError)")
        } else {
            var info = stat()
            guard stat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw RunError("\(folder): exists and is not a folder")
            }
        }
        let existing = TemplateFiles.names.filter { name in
            var info = stat()
            return lstat(TemplateFiles.join(folder, name), &info) == 0
        }
        guard existing.isEmpty else {
            throw RunError("\(folder) already holds \(existing.joined(separator: ", ")); nothing written (export never overwrites a file: give a new or empty folder)")
        }
        var written: [String] = []
        func undo() {
            for path in written { unlink(path) }
            if createdFolder { rmdir(folder) }
        }
        for (index, name) in TemplateFiles.names.enumerated() {
            let path = TemplateFiles.join(folder, name)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            guard fd >= 0 else {
                let reason = FileSystem.lastError
                undo()
                throw RunError("\(path): cannot create: \(reason); nothing written")
            }
            written.append(path)
            let bytes = Array(sources[index].utf8)
            var offset = 0
            var failure: String? = nil
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = FileSystem.lastError
                    break
                }
                offset += count
            }
            if close(fd) != 0 && failure == nil { failure = FileSystem.lastError }
            if let failure {
                undo()
                throw RunError("\(path): cannot write: \(failure); nothing written")
            }
        }
        return written
    }

    // MARK: - Helpers

    static func index(of name: String) -> Int? {
        names.firstIndex { $0.utf8.elementsEqual(name.utf8) }
    }

    /// How a file is compiled for the name check (names do not depend on the CSV dialect).
    static func checkType(_ name: String) -> ContentType {
        name.utf8.elementsEqual(EmailOptions.textTemplateName.utf8) || name.contains(".html.") ? .html : .csv(.standard)
    }

    /// Per file of `names`, the names its built-in templates use, byte-sorted.
    static let vocabulary: [[String]] = names.map { name in
        var known: [String] = []
        for language in ReportLanguage.allCases {
            guard let source = BuiltinTemplates.source(language, name),
                  let template = try? Template(name: name, source: source, contentType: checkType(name)) else {
                preconditionFailure("built-in \(language.rawValue)/\(name) does not compile")
            }
            for (used, _) in template.usedNames where !known.contains(where: { $0.utf8.elementsEqual(used.utf8) }) {
                known.append(used)
            }
        }
        return known.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.utf8.last == UInt8(ascii: "/") ? folder + name : folder + "/" + name
    }

    /// The whole of a regular file as UTF-8 text (a device or a FIFO named as a template is refused,
    /// never read until it ends).
    static func readText(_ path: String) throws(RunError) -> String {
        // Never through a link: a link in the folder could publish any file of the machine.
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readRegularFile(path, limit: maxBytes, followLinks: false)
        } catch {
            switch error {
            case .symbolicLink: throw RunError("\(path): not a regular file (a symbolic link: templates are never read through a link)")
            case .cannotOpen(let reason): throw RunError("\(path): cannot open: \(reason)")
            case .cannotRead(let reason): throw RunError("\(path): cannot read: \(reason)")
            case .notRegular: throw RunError("\(path): not a regular file")
            case .tooLarge: throw RunError("\(path): a template may not be larger than 4 MiB")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw RunError("\(path): not valid UTF-8") }
        return text
    }


}

extension Template {
    /// Every name the template uses (variables, with dotted paths joined, and section names) with
    /// the line it is on, in the order they appear.
    var usedNames: [(name: String, line: Int)] {
        ops.compactMap { op in
            switch op.code {
            case .literal: return nil
            case .variable:
                let first = Int(op.operand)
                return (nameSegments[first..<first + Int(op.extent)].joined(separator: "."), Int(op.line))
            case .section, .inverted:
                return (nameSegments[Int(op.operand)], Int(op.line))
            }
        }
    }
}

