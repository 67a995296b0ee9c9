package main

import (
	"time"

	// Waits "until 09:00 Europe/Berlin" need the time zone database. The
	// system's copy is read first; Go's embedded copy (about 450 KB) keeps
	// campc working where there is none (containers, Windows).
	_ "time/tzdata"
)

// zones is the time zone database the compiler is given: the compiler does
// no I/O, so the command reads it.
func zones(name string) (*time.Location, error) { return time.LoadLocation(name) }
