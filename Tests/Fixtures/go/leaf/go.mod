module leaffixture

go 1.19
