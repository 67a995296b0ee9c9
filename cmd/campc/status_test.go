package main

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
)

// campc status shows a dead job with its error, and campc retry queues it
// again; bad input is refused with the flag named.
func TestStatusRetryPostgres(t *testing.T) {
	base := testPostgresURL(t)
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	db := freshSchema(t, base)
	if _, errOut, code := campcBin(t, bin, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	conn, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A job whose attempts ran out, as River leaves it.
	var id int64
	if err := conn.QueryRow(`INSERT INTO river_job (kind, args, state, attempt, max_attempts, queue, errors, finalized_at)
VALUES ('campc_deliver', '{"message_id":"m1"}', 'discarded', 10, 10, 'default',
  ARRAY['{"at":"2026-12-01T00:00:00Z","attempt":10,"error":"relay said 554 no"}'::jsonb], now()) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := campcBin(t, bin, "status", "--db", db)
	if code != 0 {
		t.Fatalf("status: %s", errOut)
	}
	for _, want := range []string{"processes alive: 0", "campc_deliver  discarded  1", "dead jobs: 1", "relay said 554 no"} {
		if !strings.Contains(out, want) {
			t.Errorf("campc status has no %q:\n%s", want, out)
		}
	}
	out, _, _ = campcBin(t, bin, "status", "--db", db, "--format", "json")
	var st struct {
		Jobs []struct {
			Kind, State string
			Count       int
		} `json:"jobs"`
		Dead []struct {
			ID    int64
			Error string
		} `json:"dead"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Dead) != 1 || st.Dead[0].ID != id || st.Dead[0].Error != "relay said 554 no" {
		t.Errorf("status --format json: %v\n%s", err, out)
	}
	if _, errOut, code := campcBin(t, bin, "retry", "--db", db); code != 2 || !strings.Contains(errOut, "--all") {
		t.Errorf("retry without ids: exit %d, %s", code, errOut)
	}
	if _, errOut, code := campcBin(t, bin, "retry", "--db", db, "x1"); code != 2 || !strings.Contains(errOut, `"x1" is not a job id`) {
		t.Errorf("retry x1: exit %d, %s", code, errOut)
	}
	if _, errOut, code := campcBin(t, bin, "retry", "--db", db, "999999"); code != 1 || !strings.Contains(errOut, "no such job") {
		t.Errorf("retry of a missing job: exit %d, %s", code, errOut)
	}
	if _, errOut, code := campcBin(t, bin, "retry", "--db", dir+"/local.db", "--all"); code != 2 || !strings.Contains(errOut, "PostgreSQL") {
		t.Errorf("retry on SQLite: exit %d, %s", code, errOut)
	}
	out, errOut, code = campcBin(t, bin, "retry", "--db", db, "--all")
	if code != 0 || !strings.Contains(out, "1 jobs queued again") {
		t.Fatalf("retry --all: exit %d, %s%s", code, out, errOut)
	}
	var state string
	if err := conn.QueryRow(`SELECT state FROM river_job WHERE id = $1`, id).Scan(&state); err != nil || state != "available" {
		t.Errorf("after retry the job is %q (%v), want available", state, err)
	}
	out, _, _ = campcBin(t, bin, "status", "--db", db)
	if !strings.Contains(out, "dead jobs: 0") {
		t.Errorf("status after retry:\n%s", out)
	}
}
