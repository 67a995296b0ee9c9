package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/lsp"
)

// LSPCampaigns is the size of BenchmarkLSPEdit's project (issue 14: about
// 0.5 MB).
const LSPCampaigns = 1000

// BenchmarkLSPEdit measures what campc lsp does after a one-character edit
// in a project of LSPCampaigns campaigns (gen.Project): one op is the edit
// of an open document and the re-analysis of the whole project, which
// reparses the edited file only (the others' parses are cached by their
// text), checks the project and sorts the diagnostics by file. It reports
// the heap the server holds for the project (its files, parses and last
// analysis) as held-heap-MB.
func BenchmarkLSPEdit(b *testing.B) {
	b.Run("campc", func(b *testing.B) {
		srcs := gen.Project(LSPCampaigns)
		dir := b.TempDir()
		for _, s := range srcs {
			p := filepath.Join(dir, filepath.FromSlash(s.Name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(s.Text), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		edited := filepath.Join(dir, "programs", "p0005.camp")
		text, err := os.ReadFile(edited)
		if err != nil {
			b.Fatal(err)
		}
		// Two texts one character apart: a letter of a subject changes.
		i := strings.Index(string(text), "Join us")
		if i < 0 {
			b.Fatal("the generated program has no subject to edit")
		}
		texts := [2]string{string(text), string(text[:i]) + "j" + string(text[i+1:])}

		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		a := lsp.NewAnalyzer(dir, nil)
		a.SetOverlay(edited, texts[0])
		if an := a.Analyze(); an.Result.Diagnostics.HasErrors() {
			b.Fatalf("the project has errors: %v", an.Result)
		}
		runtime.GC()
		var held runtime.MemStats
		runtime.ReadMemStats(&held)

		// The collector as campc lsp sets it (lsp.GCPercent), unless GOGC
		// is set for the run.
		if os.Getenv("GOGC") == "" {
			defer debug.SetGCPercent(debug.SetGCPercent(lsp.GCPercent))
		}
		b.ResetTimer()
		for n := range b.N {
			a.SetOverlay(edited, texts[(n+1)%2])
			an := a.Analyze()
			if len(an.Diags) != len(srcs) {
				b.Fatalf("diagnostics for %d files, want %d", len(an.Diags), len(srcs))
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(held.HeapAlloc-min(before.HeapAlloc, held.HeapAlloc))/(1<<20), "held-heap-MB")
		b.ReportMetric(float64(gen.Size(srcs))/(1<<20), "source-MB")
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/edit")
		runtime.KeepAlive(a)
	})
}
