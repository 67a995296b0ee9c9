package vm

import (
	"fmt"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm/storage"
)

// Matcher evaluates one campaign's smart-list filters for people without
// running anything: "who would this campaign qualify?". A Matcher is not
// safe for concurrent use; make one per goroutine. Matching allocates
// nothing.
type Matcher struct {
	c  *ir.Campaign
	ps pass
	r  run
}

// Matcher makes a Matcher for a campaign's smart list (its filters and
// logic; triggers and the qualification rule are not part of it).
func (e *Engine) Matcher(campaign string) (*Matcher, error) {
	c, err := e.Campaign(campaign)
	if err != nil {
		return nil, err
	}
	if c.SmartList == nil {
		return nil, fmt.Errorf("campaign %q has no smart list", c.Name)
	}
	m := &Matcher{c: c}
	m.r.e = e
	m.ps.r = &m.r
	return m, nil
}

// Match reports whether the person passes the smart list's filters at
// time now (which "in past" and activity windows are measured from). An
// invalid smart list matches nobody.
func (m *Matcher) Match(p *storage.Person, now time.Time) bool {
	m.r.now = now
	m.ps.p = p
	ok, _ := m.ps.smartList(m.c.SmartList, m.c.Workspace, 0)
	m.ps.p = nil
	return ok
}
