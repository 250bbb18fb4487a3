module symbolsfixture

go 1.19
