package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/railyard-cd/railyard"
)

const (
	eventColumns = `id, time, actor_name, actor_email, kind, description, payload, changes`

	createEventSQL = `INSERT INTO events (time, actor_name, actor_email, kind, description, payload, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	createEventRefSQL = `INSERT INTO event_refs (event_id, application, environment, source_commit_id)
		VALUES (?, ?, ?, ?)`
	lastEventIDSQL       = `SELECT COALESCE(MAX(id), 0) FROM events`
	eventChangesAfterSQL = `SELECT changes FROM events WHERE id > ? ORDER BY id`
)

// commitPrefixRE is what a SourceCommitID filter must look like: at least
// 7 characters, so that a prefix names few commits, and hexadecimal, so
// that it can be matched as a range of the index.
var commitPrefixRE = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// CreateEvent appends an event with its refs and sets its ID. Writes are
// serialized, so ids are also in commit order: a reader that has seen id
// n has seen every id below it.
func (t *tx) CreateEvent(ctx context.Context, e *railyard.Event) error {
	changesJSON, err := t.encodeChanges(ctx, e.Changes)
	if err != nil {
		return wrap("create event", err)
	}
	var payload any
	if len(e.Payload) > 0 {
		payload = string(e.Payload)
	}
	res, err := t.exec(ctx, createEventSQL, micros(e.Time), e.Actor.Name, e.Actor.Email, e.Kind,
		e.Description, payload, string(changesJSON))
	if err != nil {
		return wrap("create event", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return wrap("create event", err)
	}
	for _, ref := range e.Refs {
		_, err := t.exec(ctx, createEventRefSQL, id, ref.Application, ref.Environment,
			strings.ToLower(ref.SourceCommitID))
		if err != nil {
			return wrap("create event", err)
		}
	}
	e.ID = id
	return nil
}

// FindEvents returns matching events (see railyard.EventFilter for the
// order). The events carry Payload and Changes but not Refs. EINVALID if
// the SourceCommitID filter is shorter than 7 or not hexadecimal.
func (t *tx) FindEvents(ctx context.Context, filter railyard.EventFilter) ([]*railyard.Event, error) {
	q, args, err := eventsQuery(filter)
	if err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("find events", err)
	}
	events, stored, err := scanEvents(rows)
	if err != nil {
		return nil, wrap("find events", err)
	}
	// Manifests are read once the rows are closed, so that one statement
	// at a time runs on the transaction's connection, and all at once.
	changes := make([][]storedChange, len(events))
	var hashes []contentHash
	for i, e := range events {
		if changes[i], err = decodeStoredChanges(stored[i]); err != nil {
			return nil, wrap("find events", fmt.Errorf("event %d: %w", e.ID, err))
		}
		hs, err := contentHashes(changes[i])
		if err != nil {
			return nil, wrap("find events", fmt.Errorf("event %d: %w", e.ID, err))
		}
		hashes = append(hashes, hs...)
	}
	r := &contentReader{tx: t}
	if err := r.load(ctx, hashes); err != nil {
		return nil, wrap("find events", err)
	}
	for i, e := range events {
		if e.Changes, err = changesOf(ctx, changes[i], r); err != nil {
			return nil, wrap("find events", fmt.Errorf("event %d: %w", e.ID, err))
		}
	}
	return events, nil
}

// scanEvents reads the events of rows, and the changes of each as stored.
func scanEvents(rows *sql.Rows) ([]*railyard.Event, [][]byte, error) {
	defer rows.Close()
	events := []*railyard.Event{}
	var stored [][]byte
	for rows.Next() {
		e, changes, err := scanEvent(rows)
		if err != nil {
			return nil, nil, err
		}
		events = append(events, e)
		stored = append(stored, changes)
	}
	return events, stored, rows.Err()
}

// LastEventID returns the highest event ID, or 0 if there are none.
func (t *tx) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	err := t.queryRow(ctx, lastEventIDSQL).Scan(&id)
	return id, wrap("last event id", err)
}

// ChangedApplications returns, ordered by name and each once, the
// applications named by the changes of the events after afterID. It
// decodes only the application of each stored change: no manifest is
// read.
func (t *tx) ChangedApplications(ctx context.Context, afterID int64) ([]string, error) {
	rows, err := t.query(ctx, eventChangesAfterSQL, afterID)
	if err != nil {
		return nil, wrap("changed applications", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var changes []struct {
		Application string `json:"application"`
	}
	var data []byte
	for rows.Next() {
		if err := rows.Scan(&data); err != nil {
			return nil, wrap("changed applications", err)
		}
		changes = changes[:0]
		if err := json.Unmarshal(data, &changes); err != nil {
			return nil, wrap("changed applications", err)
		}
		for _, ch := range changes {
			if ch.Application != "" {
				seen[ch.Application] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("changed applications", err)
	}
	apps := slices.Sorted(maps.Keys(seen))
	if apps == nil {
		apps = []string{}
	}
	return apps, nil
}

// eventsQuery builds the query for a filter. The conditions on refs must
// all hold for one ref, so that "application A and commit C" does not
// match a release train that deployed A at one commit and B at C.
func eventsQuery(f railyard.EventFilter) (string, []any, error) {
	var w where
	if f.AfterID > 0 {
		w.add("id > ?", f.AfterID)
	}
	if f.BeforeID > 0 {
		w.add("id < ?", f.BeforeID)
	}
	w.eq("kind", f.Kind)
	if f.Actor != "" {
		w.add("(actor_name = ? OR actor_email = ?)", f.Actor, f.Actor)
	}
	if f.Since != nil {
		w.add("time >= ?", micros(*f.Since))
	}
	if f.Until != nil {
		w.add("time < ?", micros(*f.Until))
	}
	refs, err := eventRefsCondition(f)
	if err != nil {
		return "", nil, err
	}
	if len(refs.conds) > 0 {
		w.add("id IN (SELECT event_id FROM event_refs"+refs.clause()+")", refs.args...)
	}
	q := `SELECT ` + eventColumns + ` FROM events` + w.clause()
	if f.AfterID > 0 || f.Ascending {
		q += ` ORDER BY id ASC`
	} else {
		q += ` ORDER BY id DESC`
	}
	if f.Limit > 0 {
		q += ` LIMIT ?`
		w.args = append(w.args, f.Limit)
	}
	return q, w.args, nil
}

// eventRefsCondition returns the conditions on one ref of the filter. A
// commit prefix becomes a range [prefix, prefix with its last character
// incremented), which the index answers directly.
func eventRefsCondition(f railyard.EventFilter) (*where, error) {
	var w where
	w.eq("application", f.Application)
	w.eq("environment", f.Environment)
	if c := f.SourceCommitID; c != "" {
		if !commitPrefixRE.MatchString(c) {
			return nil, railyard.Errorf(railyard.EINVALID,
				"sourceCommitId %q must be 7 to 40 hexadecimal characters: a commit id or a prefix of one",
				c).WithField("sourceCommitId")
		}
		lo := strings.ToLower(c)
		hi := lo[:len(lo)-1] + string(lo[len(lo)-1]+1)
		w.add("source_commit_id >= ? AND source_commit_id < ?", lo, hi)
	}
	return &w, nil
}

// scanEvent reads an event without its changes, which it returns as
// stored.
func scanEvent(s scanner) (*railyard.Event, []byte, error) {
	var (
		ev               railyard.Event
		at               int64
		payload, changes []byte
	)
	err := s.Scan(&ev.ID, &at, &ev.Actor.Name, &ev.Actor.Email, &ev.Kind, &ev.Description,
		&payload, &changes)
	if err != nil {
		return nil, nil, err
	}
	ev.Time = fromMicros(at)
	if payload != nil {
		ev.Payload = json.RawMessage(payload)
	}
	return &ev, changes, nil
}
