// C++ fixture: functions in namespaces, class templates and function templates, a lambda and an overload set,
// so tests can check demangled names (full and without parameters) from DWARF and from the symbol table.
#include <cstdio>
#include <vector>

#define FX_KEEP __attribute__((noinline, used))

namespace fixture {
namespace detail {

template <typename T>
struct Accumulator {
    T total{};
    FX_KEEP void add(T value) { total = total * 3 + value; }
    FX_KEEP T result() const { return total; }
};

FX_KEEP long scale(long value) { return value * 7; }
FX_KEEP double scale(double value) { return value * 0.5; }

}  // namespace detail

template <typename T>
FX_KEEP T sum(const std::vector<T>& values) {
    detail::Accumulator<T> accumulator;
    for (const T& value : values) accumulator.add(value);
    return accumulator.result();
}

FX_KEEP int apply_twice(int seed) {
    auto twice = [](int x) __attribute__((noinline)) { return x * 2 + 1; };
    return twice(twice(seed));
}

}  // namespace fixture

int main(int argc, char**) {
    std::vector<int> ints{argc, 2, 3};
    std::vector<double> doubles{1.5, double(argc)};
    std::printf("%d %f %ld %f %d\n", fixture::sum(ints), fixture::sum(doubles), fixture::detail::scale(long(argc)),
        fixture::detail::scale(double(argc)), fixture::apply_twice(argc));
    return 0;
}
