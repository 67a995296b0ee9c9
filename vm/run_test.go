package vm_test

import (
	"flag"
	"testing"

	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/vmtest"
)

var update = flag.Bool("update", false, "rewrite the golden logs of testdata/run")

// TestRunCases runs the data-driven cases of testdata/run (see package
// vmtest for their format) on the in-memory store.
func TestRunCases(t *testing.T) {
	vmtest.RunCases(t, "testdata/run", func(t *testing.T) vmtest.Store { return memstore.New() }, *update)
}

// TestMemStoreConformance runs the store conformance suite on memstore.Store.
func TestMemStoreConformance(t *testing.T) {
	vmtest.Conformance(t, func(t *testing.T) vmtest.Store { return memstore.New() })
}
