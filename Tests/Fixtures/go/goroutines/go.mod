module goroutinesfixture

go 1.19
