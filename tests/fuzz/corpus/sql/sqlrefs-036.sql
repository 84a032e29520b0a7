insert-all t
table t
