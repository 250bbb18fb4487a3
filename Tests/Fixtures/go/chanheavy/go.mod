module chanheavyfixture

go 1.19
