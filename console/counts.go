package console

import (
	"context"
	"maps"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/store"
)

// The campaign page's counts over the whole activity log (the funnel) and
// the entries' index (24 h, 7 d, 30 d) take tens of milliseconds each at
// 100,000 people, so the console keeps them per campaign with the number
// of the campaign's last activity. A view whose campaign has no newer
// activity, within countsTTL of the service's clock, reuses them; newer
// activities update the funnel from those activities alone (up to
// maxNewPairs first steps of a person), else it is counted again; the
// entries are counted again. Every countsTTL the counts start over, which
// also bounds the window drift of the entry counts.
const (
	countsTTL   = time.Minute
	maxNewPairs = 2000
)

type counts struct {
	upTo    int64 // the campaign's last activity when counted
	at      time.Time
	funnel  map[string]int
	entries store.EntryCounts
}

// campaignCounts returns a campaign's funnel (people per step identity)
// and entries.
func (c *Console) campaignCounts(ctx context.Context, cp *ir.Campaign) (map[string]int, store.EntryCounts, error) {
	st := c.svc.Store()
	ws := cp.Workspace.Name
	now := c.svc.Now()
	last, err := st.LastSeq(ctx, ws, cp.Name)
	if err != nil {
		return nil, store.EntryCounts{}, err
	}
	c.countsMu.Lock()
	old := c.counts[cp]
	c.countsMu.Unlock()
	fresh := old != nil && !now.Before(old.at) && now.Sub(old.at) < countsTTL
	if fresh && old.upTo == last {
		return old.funnel, old.entries, nil
	}
	next := &counts{at: now}
	if fresh && old.upTo < last {
		pairs, ok, err := st.NewStepPeople(ctx, ws, cp.Name, old.upTo, last, maxNewPairs)
		if err != nil {
			return nil, store.EntryCounts{}, err
		}
		if ok {
			next.funnel, next.upTo, next.at = maps.Clone(old.funnel), last, old.at
			for _, p := range pairs {
				next.funnel[p.Step]++
			}
		}
	}
	if next.funnel == nil {
		if next.funnel, next.upTo, err = st.StepPeople(ctx, ws, cp.Name); err != nil {
			return nil, store.EntryCounts{}, err
		}
	}
	if next.entries, err = st.CampaignEntries(ctx, ws, cp.Name, now); err != nil {
		return nil, store.EntryCounts{}, err
	}
	c.countsMu.Lock()
	c.counts[cp] = next
	c.countsMu.Unlock()
	return next.funnel, next.entries, nil
}
