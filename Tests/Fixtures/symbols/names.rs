// Rust fixture: a generic function, a trait method and an inherent method in a module, built with
// -C force-frame-pointers=yes -C debuginfo=2, for checking demangled Rust names (legacy and v0 manglings).
mod shapes {
    pub trait Area {
        fn area(&self) -> f64;
    }

    pub struct Square(pub f64);

    impl Area for Square {
        #[inline(never)]
        fn area(&self) -> f64 {
            self.0 * self.0
        }
    }

    impl Square {
        #[inline(never)]
        pub fn grow(&mut self, by: f64) {
            self.0 += by;
        }
    }

    #[inline(never)]
    pub fn total<T: Area>(items: &[T]) -> f64 {
        items.iter().map(|item| item.area()).sum()
    }
}

use shapes::Area;

fn main() {
    let mut squares = vec![shapes::Square(1.0), shapes::Square(std::env::args().count() as f64)];
    squares[0].grow(0.5);
    println!("{} {}", shapes::total(&squares), squares[1].area());
}
