import Foundation
import Testing
@testable import BalanceTestSupport

/// What a fresh clone needs to build what was tested, and a README that stands on its own.
@Suite("Packaging: pinned dependencies, a README that stands alone")
struct PackagingTests {
    static func text(_ path: String) throws -> String {
        try String(contentsOf: Repository.root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test("Package.resolved is committed and pins every dependency of Package.swift to an exact version and commit")
    func dependenciesArePinned() throws {
        let manifest = try Self.text("Package.swift")
        let urls = manifest.split(separator: "\n").compactMap { line -> String? in
            guard line.contains(".package(url:"), let start = line.range(of: "\"")?.upperBound,
                  let end = line[start...].range(of: "\"")?.lowerBound else { return nil }
            return String(line[start..<end])
        }
        #expect(urls.count >= 2, "\(urls)")
        let resolved = try #require(try JSONSerialization.jsonObject(with: Data(Self.text("Package.resolved").utf8)) as? [String: Any])
        let pins = try #require(resolved["pins"] as? [[String: Any]])
        for url in urls {
            let pin = pins.first { ($0["location"] as? String) == url }
            let state = pin?["state"] as? [String: Any]
            #expect(state?["version"] is String, "\(url) is not pinned to a version")
            #expect((state?["revision"] as? String)?.count == 40, "\(url) is not pinned to a commit")
        }
        // Not ignored, so a fresh clone has it.
        let ignored = try Self.text(".gitignore").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(!ignored.contains("Package.resolved") && !ignored.contains("/Package.resolved"))
    }

    @Test("every relative link and image of the README points at a file of the repository")
    func readmeLinksStayInside() throws {
        let readme = try Self.text("README.md")
        var targets: [String] = []
        // Markdown links and images `](target)`, and HTML `src="…"` / `href="…"`.
        let patterns = [#"\]\(([^)\s]+)\)"#, #"(?:src|href)="([^"]+)""#]
        for pattern in patterns {
            let regex = try NSRegularExpression(pattern: pattern)
            for match in regex.matches(in: readme, range: NSRange(readme.startIndex..., in: readme)) {
                if let range = Range(match.range(at: 1), in: readme) { targets.append(String(readme[range])) }
            }
        }
        #expect(targets.count > 5, "\(targets)")
        let root = Repository.root.standardizedFileURL.path
        for target in targets where !target.hasPrefix("http://") && !target.hasPrefix("https://") && !target.hasPrefix("#") {
            let path = String(target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
            let url = Repository.root.appendingPathComponent(path).standardizedFileURL
            #expect(url.path.hasPrefix(root + "/"), "README links outside the repository: \(target)")
            #expect(FileManager.default.fileExists(atPath: url.path), "README links to a missing file: \(target)")
        }
        #expect(!readme.contains("../shared"), "the README cites a file outside the repository")
        #expect(readme.contains("](docs/rules.md)"))
    }
}
