package bench

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/compiler"
)

// BenchmarkCheckMemory checks the BenchmarkCheck project (gen.Project of
// CheckCampaigns campaigns) once per op and reports what it costs in
// memory: the peak of the live heap during a check (sampled every
// millisecond), the heap the result keeps, the process's peak resident
// set (VmHWM, reset first) and, with -benchmem, the bytes allocated per
// check. bench/run.sh runs it in a process of its own.
func BenchmarkCheckMemory(b *testing.B) {
	b.Run("campc", func(b *testing.B) {
		srcs := gen.Project(CheckCampaigns)
		var res *compiler.Result
		var peak uint64
		b.StopTimer()
		for range b.N {
			res = nil
			runtime.GC()
			debug.FreeOSMemory()
			resetPeakRSS()
			stop := sampleHeap(&peak)
			b.StartTimer()
			res = compiler.Compile(srcs, compiler.Options{})
			b.StopTimer()
			stop()
			if res.HasErrors() {
				b.Fatal(res)
			}
		}
		rss := peakRSS()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(gen.Size(srcs))/(1<<20), "source-MB")
		runtime.KeepAlive(res)
	})
}

// sampleHeap records in *peak the largest live heap (heap objects, bytes)
// seen until the returned function is called. runtime/metrics reads
// without stopping the world, so sampling barely disturbs the check.
func sampleHeap(peak *uint64) (stop func()) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
