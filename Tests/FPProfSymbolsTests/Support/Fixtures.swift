import Foundation

/// The C fixture (`Tests/Fixtures/symbols/functions.c`) built once per test run, in every shape the symbolizer
/// must read: PIE and non-PIE executables and a shared library, each also stripped. No debug information, so the
/// reference tools answer from the symbol tables just as fpprof does.
struct Fixtures: Sendable {
    var directory: String
    var pie: String
    var nonPIE: String
    var library: String
    var strippedPIE: String
    var strippedLibrary: String

    /// Every built file: a name for messages and its path.
    var all: [(name: String, path: String)] {
        [
            ("pie", pie), ("non-pie", nonPIE), ("shared library", library), ("stripped pie", strippedPIE),
            ("stripped shared library", strippedLibrary),
        ]
    }

    static let toolsAvailable = ["gcc", "nm", "readelf", "strip", "addr2line", "eu-addr2line"].allSatisfy(
        Tools.available)

    /// Built on first use; the error message if the build failed.
    static let shared: Result<Fixtures, Tools.Failure> = {
        do { return .success(try build()) } catch let failure as Tools.Failure {
            return .failure(failure)
        } catch {
            return .failure(Tools.Failure(description: "\(error)"))
        }
    }()

    static func get() throws -> Fixtures { try shared.get() }

    static let sourceDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/symbols").path

    /// A fresh scratch directory under the system's temporary directory.
    static func scratchDirectory(_ label: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fpprof-symbols-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    private static func build() throws -> Fixtures {
        let directory = try scratchDirectory("fixtures")
        // The fixtures live as long as the test process; remove them when it exits.
        atexit {
            if case .success(let fixtures) = Fixtures.shared {
                try? FileManager.default.removeItem(atPath: fixtures.directory)
            }
        }
        let source = sourceDirectory + "/functions.c"
        let fixtures = Fixtures(
            directory: directory, pie: directory + "/functions-pie", nonPIE: directory + "/functions-nopie",
            library: directory + "/libfunctions.so", strippedPIE: directory + "/functions-pie-stripped",
            strippedLibrary: directory + "/libfunctions-stripped.so")
        let common = ["-O2", "-g0", "-fno-omit-frame-pointer", "-Wl,--build-id=sha1"]
        try Tools.run("gcc", common + ["-fPIE", "-pie", "-o", fixtures.pie, source])
        try Tools.run("gcc", common + ["-fno-pie", "-no-pie", "-o", fixtures.nonPIE, source])
        try Tools.run("gcc", common + ["-fPIC", "-shared", "-DFX_LIBRARY", "-o", fixtures.library, source])
        try Tools.run("strip", ["-o", fixtures.strippedPIE, fixtures.pie])
        try Tools.run("strip", ["-o", fixtures.strippedLibrary, fixtures.library])
        return fixtures
    }
}
