package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/campc/campc/store"
)

// A batch run on a database is leased by the process that runs it: the
// run's row names the process (host, pid and a random tag) and carries a
// heartbeat, renewed every leaseBeat from the host's clock. Another
// process takes an unfinished run as stopped part way, and finishes it,
// once the heartbeat is older than leaseStale, or at once when the owner
// is a process of the same host that no longer exists (a kill -9). Until
// then the run is in progress, and the other process waits for it.
const (
	leaseBeat  = 2 * time.Second
	leaseStale = 15 * time.Second
	busyPoll   = 500 * time.Millisecond
)

// leaseOwner names this process for the runs it leases: host:pid:tag.
func leaseOwner() string {
	host, _ := os.Hostname()
	var tag [4]byte
	rand.Read(tag[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(tag[:]))
}

// leaseLive tells whether another process's lease on a run still holds.
func leaseLive(owner string, heartbeat time.Time) bool {
	if i := strings.LastIndexByte(owner, ':'); i > 0 {
		if j := strings.LastIndexByte(owner[:i], ':'); j >= 0 {
			host, pid := owner[:j], owner[j+1:i]
			me, _ := os.Hostname()
			if n, err := strconv.Atoi(pid); err == nil && host == me && !processExists(n) {
				return false
			}
		}
	}
	return time.Since(heartbeat) < leaseStale
}

// processExists tells whether a process of this host has the pid.
func processExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// startLease gives a database store this process's lease and renews it
// until the returned function is called. Other stores need none.
func startLease(st peopleStore) (stop func()) {
	s, ok := st.(*store.Store)
	if !ok {
		return func() {}
	}
	s.SetLease(store.Lease{Owner: leaseOwner(), Now: time.Now, Live: leaseLive})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaseBeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A failed renewal is retried at the next beat; a lease
				// that lapses only lets another process take the run
				// over, and this one then stops at its next commit.
				s.Heartbeat(ctx)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
