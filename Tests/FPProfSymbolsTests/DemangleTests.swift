import FPProfCore
import Foundation
import Testing

@testable import FPProfSymbols

/// Demangling rules on their own, then through the symbolizer on real C++, Swift and Rust binaries.
struct DemangleTests {
    @Test(
        "C++ through libiberty: full, without the parameter list, and untouched",
        arguments: [
            ("_ZN2ns3fooIiEEvT_", "void ns::foo<int>(int)", "ns::foo<int>"),
            ("_ZNK2ns3BarIiE3bazEv", "ns::Bar<int>::baz() const", "ns::Bar<int>::baz"),
            (
                "_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back(int const&)",
                "std::vector<int, std::allocator<int> >::push_back"
            ),
            (
                "_ZZN2ns1fEvENKUliE_clEi", "ns::f()::{lambda(int)#1}::operator()(int) const",
                "ns::f()::{lambda(int)#1}::operator()"
            ),
        ])
    func cxx(mangled: String, full: String, noParams: String) {
        #expect(Demangler.demangle(mangled, mode: .full) == full)
        #expect(Demangler.demangle(mangled, mode: .noParams) == noParams)
        #expect(Demangler.demangle(mangled, mode: .none) == nil)
    }

    @Test("Rust legacy (hash dropped) and v0 manglings")
    func rust() {
        #expect(Demangler.demangle("_ZN4core3fmt5write17h0123456789abcdefE", mode: .full) == "core::fmt::write")
        let v0 = Demangler.demangle("_RNvCs1234_7mycrate3foo", mode: .full)
        #expect(v0?.hasPrefix("mycrate") == true && v0?.hasSuffix("::foo") == true)
    }

    @Test("Swift through the runtime's swift_demangle")
    func swift() {
        let mangled = "$s4main7CounterV7advance2byS2i_tF"
        #expect(Demangler.demangle(mangled, mode: .full) == "main.Counter.advance(by: Swift.Int) -> Swift.Int")
        #expect(Demangler.demangle(mangled, mode: .noParams) == "main.Counter.advance")
    }

    @Test(
        "Swift names without parameters keep types, generics and contexts",
        arguments: [
            ("main.Foo.bar(x: Swift.Int) async throws -> Swift.Int", "main.Foo.bar"),
            ("closure #1 (Swift.Int) -> Swift.Int in main.foo(x: Swift.Int) -> ()", "closure #1 in main.foo"),
            (
                "generic specialization <Swift.Int> of main.accumulate<A>([A]) -> A",
                "generic specialization <Swift.Int> of main.accumulate<A>"
            ),
            (
                "(extension in Foundation):Swift.String.init(cString: Swift.UnsafePointer<Swift.Int8>) -> Swift.String",
                "(extension in Foundation):Swift.String.init"
            ),
            ("main.Counter.value.getter : Swift.Int", "main.Counter.value.getter : Swift.Int"),
        ])
    func swiftWithoutParameters(full: String, short: String) {
        #expect(SwiftSignature.withoutParameters(full) == short)
    }

    @Test(
        "simplified Swift names: no modules, discriminators, specialization arguments, requirements or thunk types",
        arguments: [
            ("main.Counter.advance(by: Swift.Int) -> Swift.Int", "Counter.advance"),
            (
                "generic specialization <Swift.Int> of main.accumulate<A>([A]) -> A",
                "specialized accumulate<A>"
            ),
            (
                "function signature specialization <Arg[0] = Owned To Guaranteed> of FPProfCore.ProfileBuilder.apply"
                    + "(FPProfCore.PerfRecord) -> ()",
                "specialized ProfileBuilder.apply"
            ),
            (
                "closure #1 (ArgumentParser.InputOrigin) throws -> () in ArgumentParser.ArgumentDefinition."
                    + "(in _1706B12A21ABB12C4003529A385B6A5A).init<A where A: ArgumentParser.ArgumentDefinitionContainer>"
                    + "(container: A.Type) -> ArgumentParser.ArgumentDefinition",
                "closure #1 in ArgumentDefinition.init<A>"
            ),
            (
                "ArgumentParser.CommandParser.(parseBesidesCustomCompletion in _62CE83A9F4DB2AB4B4A7B5A92F1C8E0D)"
                    + "(Swift.Array<Swift.String>) throws -> ArgumentParser.ParsableCommand",
                "CommandParser.parseBesidesCustomCompletion"
            ),
            (
                "partial apply forwarder for implicit closure #2 @Sendable (FPProfOutput.Family) -> Swift.Bool in "
                    + "FPProfOutput.FlamegraphWriter.legend() -> Swift.String",
                "partial apply for implicit closure #2 in FlamegraphWriter.legend"
            ),
            (
                "reabstraction thunk helper from @callee_guaranteed (@unowned FPProfCore.TaskEvent) -> "
                    + "(@owned FPProfCore.PerfRecord) to @escaping @callee_guaranteed (@in_guaranteed "
                    + "FPProfCore.TaskEvent) -> (@out FPProfCore.PerfRecord) with unmangled suffix \".1\"",
                "reabstraction thunk helper"
            ),
            ("Swift.Array<A>.append(A) -> ()", "Array<A>.append"),
            ("main.Counter.value.getter : Swift.Int", "Counter.value.getter : Int"),
        ])
    func swiftSimplified(full: String, simplified: String) {
        #expect(SwiftSimplifier.simplify(full) == simplified)
    }

    @Test("simplified through the runtime's demangler")
    func swiftSimplifiedMangled() {
        #expect(Demangler.demangle("$s4main7CounterV7advance2byS2i_tF", mode: .simplified) == "Counter.advance")
        #expect(Demangler.demangle("_ZNK2ns3BarIiE3bazEv", mode: .simplified) == "ns::Bar<int>::baz")
    }

    @Test("simplified C++ names longer than 200 characters lose their template arguments")
    func longTemplateNames() {
        let long =
            "swift::ConcurrentReadableHashMap<swift::HashMapElementWrapper<swift::GenericCacheEntry>, swift::Mutex>"
            + "::getOrInsert<swift::MetadataCacheKey, swift::StableAddressConcurrentReadableHashMap<swift::GenericCache"
            + "Entry, swift::TaggedMetadataAllocator<(unsigned short)14>, swift::Mutex>::getOrInsert<swift::Metadata"
            + "CacheKey>(swift::MetadataCacheKey)::{lambda(swift::HashMapElementWrapper<swift::GenericCacheEntry>*, "
            + "bool)#1}>"
        #expect(
            SwiftSimplifier.withoutLongTemplateArguments(long)
                == "swift::ConcurrentReadableHashMap<…>::getOrInsert<…>")
        #expect(SwiftSimplifier.withoutLongTemplateArguments("ns::Bar<int>::baz") == "ns::Bar<int>::baz")
        #expect(SwiftSimplifier.withoutLongTemplateArguments("ns::operator<") == "ns::operator<")
    }

    /// The Swift runtime's own C++ names, a differential against `c++filt -r` (binutils' libiberty without its
    /// recursion limit): every name c++filt reads fpprof reads too, and says the same, and none of them is longer
    /// than 200 characters in the default mode. Among them are `TrailingObjectsImpl` instances of 1300–1400
    /// characters that libiberty refuses under its default limit; a profile of any Swift program can hold them.
    @Test(
        "the Swift runtime's C++ names read as c++filt -r reads them",
        .enabled(if: Tools.available("nm") && Tools.available("c++filt"), "needs nm and c++filt (binutils)"))
    func swiftRuntimeCxxNames() throws {
        // Read through a handle: /proc files report size 0, which String(contentsOfFile:) takes at its word.
        let maps = String(
            decoding: try #require(try FileHandle(forReadingAtPath: "/proc/self/maps")?.readToEnd()), as: UTF8.self)
        let runtime = try #require(
            maps.split(separator: "\n").lazy.compactMap { $0.split(separator: " ").last.map(String.init) }
                .first { $0.hasSuffix("/libswiftCore.so") })
        let names = Set(
            try ReferenceElf(path: runtime).symbols.map(\.name).filter {
                $0.hasPrefix("_Z") && $0.utf8.count <= LibibertyDemangler.unlimitedLength
            }
        ).sorted()
        try #require(names.count > 1000, "\(names.count) C++ names in \(runtime)")
        #expect(names.contains { $0.utf8.count > 1200 }, "no name past libiberty's default limit")
        var reference: [String] = []
        for start in stride(from: 0, to: names.count, by: 256) {
            let batch = Array(names[start..<min(start + 256, names.count)])
            reference += try Tools.run("c++filt", ["-r", "-p"] + batch).split(separator: "\n").map(String.init)
        }
        try #require(reference.count == names.count)
        var differing: [String] = []
        for (name, expected) in zip(names, reference) {
            let ours = Demangler.demangle(name, mode: .noParams) ?? name
            if ours != expected { differing.append("\(name): \(ours) ≠ \(expected)") }
            let simplified = Demangler.demangle(name, mode: .simplified) ?? name
            #expect(simplified.count <= 200, "\(simplified)")
        }
        #expect(differing.isEmpty, "\(differing.count) of \(names.count): \(differing.prefix(5))")
    }

    /// A name of nested pointers makes libiberty recurse once per pointer; it stops printing past 1024 levels
    /// whatever the options, so the retry's depth is bounded. Such a name is read on a task's thread without
    /// exhausting its stack; a name past `unlimitedLength` is left to libiberty's default limit.
    @Test("deep names within the retry length are read on a task's thread, longer ones are left alone")
    func deepNames() async {
        let depth = 1000
        let deep = "_Z1fP" + String(repeating: "P", count: depth - 1) + "i"
        let read = await Task.detached { Demangler.demangle(deep, mode: .full) }.value
        #expect(read.map { $0.hasPrefix("f(int*") && $0.filter { $0 == "*" }.count == depth } == true)
        let longest = LibibertyDemangler.unlimitedLength + 1
        let long = "_Z\(longest)" + String(repeating: "a", count: longest) + "v"
        #expect(Demangler.demangle(long, mode: .full) == nil)
        let shorter = LibibertyDemangler.unlimitedLength - 10
        let readable = "_Z\(shorter)" + String(repeating: "a", count: shorter) + "v"
        #expect(Demangler.demangle(readable, mode: .full) == String(repeating: "a", count: shorter) + "()")
    }

    @Test("plain C and Go names are never touched, whatever the mode", arguments: DemangleMode.allCases)
    func plainNames(mode: DemangleMode) {
        var demangler = Demangler(mode: mode)
        for name in ["main", "__libc_start_main", "runtime.goexit", "main.(*T).m", "_start", "_Rx"] {
            #expect(demangler(name) == name)
        }
    }

    @Test(
        "a C++ binary: DWARF and symbol-table names, demangled in each mode",
        .enabled(if: Tools.available("g++") && Tools.available("nm"), "needs g++ and nm"))
    func cxxBinary() throws {
        for path in [try DwarfFixtures.cxx.get(), try DwarfFixtures.cxxSymbolsOnly.get()] {
            let reference = try ReferenceElf(path: path)
            func name(_ mangled: String, _ mode: DemangleMode) throws -> String? {
                let symbol = try #require(reference.symbol(named: mangled), "\(mangled) in \(path)")
                let symbolizer = ElfSymbolizer(options: .init(demangle: mode))
                return symbolizer.frames(atVirtualAddress: VirtualAddress(symbol.address), in: ModuleID(path: path))
                    .first?.function
            }
            #expect(try name("_ZN7fixture3sumIiEET_RKSt6vectorIS1_SaIS1_EE", .noParams) == "fixture::sum<int>")
            #expect(
                try name("_ZN7fixture3sumIiEET_RKSt6vectorIS1_SaIS1_EE", .full)
                    == "int fixture::sum<int>(std::vector<int, std::allocator<int> > const&)")
            #expect(
                try name("_ZN7fixture3sumIiEET_RKSt6vectorIS1_SaIS1_EE", .none)
                    == "_ZN7fixture3sumIiEET_RKSt6vectorIS1_SaIS1_EE")
            #expect(try name("_ZN7fixture6detail5scaleEl", .noParams) == "fixture::detail::scale")
            #expect(try name("_ZN7fixture6detail5scaleEd", .full) == "fixture::detail::scale(double)")
            #expect(
                try name("_ZN7fixture6detail11AccumulatorIdE3addEd", .noParams)
                    == "fixture::detail::Accumulator<double>::add")
        }
    }

    @Test(
        "a Swift binary shows demangled Swift names",
        .enabled(if: DwarfFixtures.hasSwift && Tools.available("nm"), "needs swiftc and nm"))
    func swiftBinary() throws {
        let path = try DwarfFixtures.swift.get()
        let reference = try ReferenceElf(path: path)
        let advance = try #require(reference.symbols.first { $0.name.hasPrefix("$s4main7CounterV7advance") })
        let symbolizer = ElfSymbolizer()
        let frames = symbolizer.frames(atVirtualAddress: VirtualAddress(advance.address + 4), in: ModuleID(path: path))
        #expect(frames.first?.function == "main.Counter.advance")
        #expect(frames.last?.file?.hasSuffix("names.swift") == true)
        let full = ElfSymbolizer(options: .init(demangle: .full))
        let fullFrames = full.frames(atVirtualAddress: VirtualAddress(advance.address + 4), in: ModuleID(path: path))
        #expect(fullFrames.first?.function == "main.Counter.advance(by: Swift.Int) -> Swift.Int")
    }

    /// Debian package: `rustc` (add it to scripts/packages.txt to run this in CI).
    @Test(
        "a Rust binary shows demangled Rust names",
        .enabled(if: DwarfFixtures.hasRust && Tools.available("nm"), "needs rustc (Debian package rustc) and nm"))
    func rustBinary() throws {
        let path = try DwarfFixtures.rust.get()
        let reference = try ReferenceElf(path: path)
        let symbolizer = ElfSymbolizer()
        let module = ModuleID(path: path)
        var names: Set<String> = []
        for symbol in reference.symbols where symbol.name.contains("shapes") {
            names.formUnion(
                symbolizer.frames(atVirtualAddress: VirtualAddress(symbol.address), in: module).map(\.function))
        }
        #expect(names.contains { $0.hasPrefix("names::shapes::total") }, "\(names)")
        #expect(names.contains("names::shapes::Square::grow"), "\(names)")
        #expect(names.contains("<names::shapes::Square as names::shapes::Area>::area"), "\(names)")
        #expect(!names.contains { $0.hasPrefix("_ZN") || $0.hasPrefix("_R") }, "\(names)")
    }
}
