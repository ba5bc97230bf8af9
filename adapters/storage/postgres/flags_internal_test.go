package postgres

import "flag"

// measure turns on the measurements (go test ... -args -measure).
var measure bool

func init() { flag.BoolVar(&measure, "measure", false, "run the measurements") }
