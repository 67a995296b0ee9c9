package store

import (
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm/storage"
)

// Times are stored as integers, microseconds since 1970 UTC: they sort as
// numbers whatever the year (text stopped sorting, and parsing, at year
// 10000), and an int64 holds every microsecond for ±290,000 years, while
// nanoseconds would end in 2262. The engine's clock counts microseconds
// (vm.Clock), so nothing is lost.
func fmtTime(t time.Time) int64 { return t.UnixMicro() }

func parseTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// decodePerson is storage.DecodePerson, its errors the database's damage.
func decodePerson(id string, data []byte) (*storage.Person, error) {
	p, err := storage.DecodePerson(id, data)
	if err != nil {
		return nil, damaged("%v", err)
	}
	return p, nil
}

// decodeSlots is storage.DecodeSlots, its errors the database's damage.
func decodeSlots(id string, data []byte, lay *ir.Layout) (*storage.Person, error) {
	p, err := storage.DecodeSlots(id, data, lay)
	if err != nil {
		return nil, damaged("%v", err)
	}
	return p, nil
}

func encodePerson(p *storage.Person) ([]byte, error) { return storage.EncodePerson(p) }
