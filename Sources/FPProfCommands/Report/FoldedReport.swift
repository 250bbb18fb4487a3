import FPProfOutput

/// Folded stacks (fpprof's or `stackcollapse-perf.pl`'s) read into a profile and rendered in another format.
enum FoldedReport {
    static func render(_ bytes: [UInt8], name: String, options: RenderOptions) throws(UserFacingError) -> Rendered {
        let profile: NamedProfile
        var warnings: [String] = []
        do { profile = try FoldedParser.parse(bytes, warnings: &warnings) } catch {
            var message = "\(name): not an fpprof capture (no FPPROFCP magic) and \(error)"
            if bytes.starts(with: [0x1f, 0x8b]) { message += "; it looks gzip-compressed (a pprof profile?)" }
            if bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) { message += "; it is an ELF file" }
            throw UserFacingError(message: message)
        }
        var result = Rendered(bytes: [], warnings: warnings.map { "\(name): \($0)" })
        if profile.stacks.isEmpty { result.warnings.append("\(name) holds no stacks") }
        do { result.bytes = try ProfileRenderer.render(profile, options: options) } catch {
            throw UserFacingError(message: error.description)
        }
        return result
    }
}
