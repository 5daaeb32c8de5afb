// The fuzz binary is built with swiftc alone, without SwiftPM and so without Yams: the parsers
// under test need no import profile, and a profile file is refused here. (The profile reader has
// its own tests in the package.)
extension ImportProfile {
    public static func load(path: String) throws(ProfileError) -> ImportProfile {
        throw ProfileError("\(path): import profiles are not read by the fuzz build")
    }

    public static func parse(_ text: String, path: String) throws(ProfileError) -> ImportProfile {
        throw ProfileError("\(path): import profiles are not read by the fuzz build")
    }
}
