package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// ReportSchema names the version of the JSON report. It changes only when
// a field changes meaning or goes away; fields may be added.
const ReportSchema = "railyard-loadtest/v1"

// Report is the result of a run, printed as a table or (-o json) as this
// JSON document; docs/benchmarks.md describes every field.
type Report struct {
	Schema string `json:"schema"`
	// Scenario is the --scenario run, "" for none.
	Scenario   string     `json:"scenario,omitempty"`
	Server     string     `json:"server"`
	StartedAt  time.Time  `json:"startedAt"`
	Parameters Parameters `json:"parameters"`
	// Prepopulate is the phase before the measurement; null without
	// --prepopulate.
	Prepopulate *PrepopulateReport `json:"prepopulate"`
	// DurationSeconds is the measured phase, from its start until the last
	// request of it was answered.
	DurationSeconds float64 `json:"durationSeconds"`
	// Requests and RequestsPerSecond count every operation's requests.
	Requests          int     `json:"requests"`
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	// ReleasesPerSecond counts releases created (201).
	ReleasesPerSecond float64 `json:"releasesPerSecond"`
	// Operations has an entry for each of release, lock-create,
	// lock-delete and train.
	Operations map[string]OpReport `json:"operations"`
	// Errors counts failed requests of every operation by status code
	// ("transport" for no answer).
	Errors map[string]int `json:"errors"`
	Counts Counts         `json:"counts"`
	// ReleasesDuringTrains are the release requests that overlapped a
	// release train request; null when none did.
	ReleasesDuringTrains *OpReport `json:"releasesDuringTrains"`
	// TrainsUnsupported is set when the server answered 404 to the
	// release train endpoint before any train succeeded: it does not
	// implement it (or the target does not exist); no more trains were
	// sent.
	TrainsUnsupported bool `json:"trainsUnsupported"`
	// EndToEnd is null without --git-remote.
	EndToEnd *EndToEnd `json:"endToEnd"`
	// Memory is null without --pid.
	Memory *Memory `json:"memory"`
	// Machine is the machine and how busy it was, from the start of the
	// measured phase until the wait for Git ended.
	Machine *Machine `json:"machine"`
	// Targets are the scenario's targets, empty without --scenario.
	Targets []TargetResult `json:"targets,omitempty"`
	// Attack is the slow-bodies scenario's attack; null in other runs.
	Attack *AttackReport `json:"attack,omitempty"`
	// Chaos is what the chaos scenario did and found; absent for the
	// others.
	Chaos *ChaosReport `json:"chaos,omitempty"`
	// Remote is how the scenario's server reached its remote (--remote:
	// file or http), "" for the embedded repository.
	Remote string `json:"remote,omitempty"`
	// Backlog is the catch-up of --backlog; absent without it.
	Backlog *BacklogReport `json:"backlog,omitempty"`
}

// Parameters are the options the run used.
type Parameters struct {
	Apps               int      `json:"apps"`
	Environments       []string `json:"environments"`
	Clients            int      `json:"clients"`
	Releases           int      `json:"releases"`
	DurationSeconds    float64  `json:"durationSeconds"`
	Rate               float64  `json:"rate"`
	ManifestSize       int      `json:"manifestSize"`
	Mix                Mix      `json:"mix"`
	Team               string   `json:"team"`
	FirstVersion       int64    `json:"firstVersion"`
	Prepopulate        int      `json:"prepopulate"`
	Setup              string   `json:"setup"`
	TrainTarget        string   `json:"trainTarget"`
	TrainTeam          string   `json:"trainTeam"`
	GitRemote          string   `json:"gitRemote"`
	GitBranch          string   `json:"gitBranch"`
	GitPollMs          float64  `json:"gitPollMs"`
	GitTimeoutSeconds  float64  `json:"gitTimeoutSeconds"`
	PID                int      `json:"pid"`
	Seed               uint64   `json:"seed"`
	RequestTimeoutSecs float64  `json:"requestTimeoutSeconds"`
}

// Counts are what the server accepted in the measured phase.
type Counts struct {
	// ReleasesCreated were answered 201, ReleasesExisting 200 (the same
	// version with the same content existed).
	ReleasesCreated  int `json:"releasesCreated"`
	ReleasesExisting int `json:"releasesExisting"`
	LocksCreated     int `json:"locksCreated"`
	LocksDeleted     int `json:"locksDeleted"`
	// LocksDeletedAtEnd are the locks still held when the phase ended,
	// deleted afterwards (not part of Operations).
	LocksDeletedAtEnd int `json:"locksDeletedAtEnd"`
	Trains            int `json:"trains"`
}

// PrepopulateReport is the phase that fills the server before measuring.
type PrepopulateReport struct {
	Releases  int            `json:"releases"`
	Created   int            `json:"created"`
	Existing  int            `json:"existing"`
	Errors    map[string]int `json:"errors"`
	Seconds   float64        `json:"seconds"`
	PerSecond float64        `json:"perSecond"`
	// ExportWaitSeconds is the time from the last acknowledgement until
	// every release was in Git (0 without --git-remote).
	ExportWaitSeconds float64 `json:"exportWaitSeconds"`
}

// TargetResult is one target of a scenario and whether the run met it.
type TargetResult struct {
	Name string  `json:"name"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	Unit string  `json:"unit"`
	// Met is null when the run could not measure the figure.
	Met *bool `json:"met"`
}

// newReport starts the report of a run with opts.
func newReport(o *Options) *Report {
	return &Report{
		Schema:    ReportSchema,
		Server:    o.Server,
		StartedAt: time.Now().UTC().Truncate(time.Second),
		Parameters: Parameters{
			Apps: o.Apps, Environments: o.Envs, Clients: o.Clients, Releases: o.Releases,
			DurationSeconds: o.Duration.Seconds(), Rate: o.Rate, ManifestSize: o.ManifestSize, Mix: o.Mix,
			Team: o.Team, FirstVersion: o.FirstVersion, Prepopulate: o.Prepopulate, Setup: o.Setup,
			TrainTarget: o.TrainTarget, TrainTeam: o.TrainTeam, GitRemote: o.GitRemote, GitBranch: o.GitBranch,
			GitPollMs: ms(o.GitPoll), GitTimeoutSeconds: o.GitTimeout.Seconds(), PID: o.PID, Seed: o.Seed,
			RequestTimeoutSecs: o.RequestTimeout.Seconds(),
		},
		Operations: map[string]OpReport{},
		Errors:     map[string]int{},
	}
}

// addPhase fills the report from the measured phase.
func (rep *Report) addPhase(res *phaseResult, r *runner) {
	secs := res.seconds()
	rep.DurationSeconds = round2(secs)
	for o := range numOps {
		s := &res.ops[o]
		rep.Operations[opNames[o]] = s.report(secs)
		rep.Requests += len(s.latencies)
		for k, n := range s.errors {
			rep.Errors[k] += n
		}
	}
	if secs > 0 {
		rep.RequestsPerSecond = round2(float64(rep.Requests) / secs)
		rep.ReleasesPerSecond = round2(float64(res.created) / secs)
	}
	rep.Counts.ReleasesCreated = res.created
	rep.Counts.ReleasesExisting = res.existing
	rep.Counts.LocksCreated = res.ops[opLockCreate].ok
	rep.Counts.LocksDeleted = res.ops[opLockDelete].ok
	rep.Counts.Trains = res.ops[opTrain].ok
	if len(res.duringTrains.latencies) > 0 {
		d := res.duringTrains.report(secs)
		rep.ReleasesDuringTrains = &d
	}
	rep.TrainsUnsupported = r.noTrains.Load() && !r.trainOK.Load()
}

// writeJSON writes the report as indented JSON.
func (rep *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeTable writes the report for people.
func (rep *Report) writeTable(w io.Writer) error {
	p := rep.Parameters
	var b strings.Builder
	title := "railyard-loadtest against " + rep.Server
	if rep.Scenario != "" {
		title += ", scenario " + rep.Scenario
	}
	fmt.Fprintf(&b, "%s (%s)\n", title, rep.StartedAt.Format(time.RFC3339))
	loop := "closed loop"
	if p.Rate > 0 {
		loop = fmt.Sprintf("open loop at %g ops/s", p.Rate)
	}
	fmt.Fprintf(&b, "load:      %d apps × %d environments (%s), %d clients, %s, %d-byte manifests, mix %s\n",
		p.Apps, len(p.Environments), strings.Join(p.Environments, ", "), p.Clients, loop, p.ManifestSize, p.Mix)
	if pre := rep.Prepopulate; pre != nil {
		fmt.Fprintf(&b, "prepopulated: %d releases (%d created) in %.1f s (%.0f/s), all in Git %.1f s after the last\n",
			pre.Releases, pre.Created, pre.Seconds, pre.PerSecond, pre.ExportWaitSeconds)
	}
	fmt.Fprintf(&b, "measured:  %.2f s, %d requests, %.1f requests/s, %.1f releases created/s\n\n",
		rep.DurationSeconds, rep.Requests, rep.RequestsPerSecond, rep.ReleasesPerSecond)

	// Names padded to one width stay left-aligned in right-aligned columns.
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-20s\trequests\tok\tper s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\t\n", "operation")
	rows := slices.Clone(opNames[:])
	if rep.ReleasesDuringTrains != nil {
		rows = append(rows, "release during train")
	}
	for _, name := range rows {
		o, ok := rep.Operations[name]
		if name == "release during train" {
			o, ok = *rep.ReleasesDuringTrains, true
		}
		if !ok || o.Requests == 0 {
			continue
		}
		l := o.LatencyMs
		fmt.Fprintf(tw, "%-20s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", name, o.Requests, o.OK, o.PerSecond, l.P50, l.P90, l.P99, l.Max, formatErrors(o.Errors))
	}
	tw.Flush()
	c := rep.Counts
	fmt.Fprintf(&b, "\ncounts:    %d releases created, %d already there; %d locks created, %d deleted (+%d at the end); %d trains\n",
		c.ReleasesCreated, c.ReleasesExisting, c.LocksCreated, c.LocksDeleted, c.LocksDeletedAtEnd, c.Trains)
	if rep.TrainsUnsupported {
		fmt.Fprintf(&b, "trains:    not supported by this server: it answered 404 to PUT %s\n", trainPath(p.TrainTarget, p.TrainTeam))
	}
	if len(rep.Errors) > 0 {
		fmt.Fprintf(&b, "errors:    %s\n", formatErrors(rep.Errors))
		for _, name := range opNames {
			o := rep.Operations[name]
			for _, k := range slices.Sorted(maps.Keys(o.ErrorSamples)) {
				fmt.Fprintf(&b, "           %s %s: %s\n", name, k, strings.TrimSpace(o.ErrorSamples[k]))
			}
		}
	}
	rep.writeEndToEnd(&b)
	rep.writeBacklog(&b)
	rep.writeAttack(&b)
	rep.writeChaos(&b)
	if m := rep.Memory; m != nil {
		hwm := "unknown (process gone)"
		if m.VmHWMMiB != nil {
			hwm = fmt.Sprintf("%.1f MiB", *m.VmHWMMiB)
		}
		fmt.Fprintf(&b, "memory:    server pid %d: peak RSS sampled during the run %.1f MiB; VmHWM (whole life) %s\n", m.PID, m.PeakRSSMiB, hwm)
	}
	if m := rep.Machine; m != nil {
		fmt.Fprintf(&b, "machine:   %d CPUs (%s), %d MiB; load average %.2f at the start, %.2f at the end\n",
			m.CPUs, m.CPUModel, m.MemoryMiB, m.LoadAverageStart[0], m.LoadAverageEnd[0])
		fmt.Fprintf(&b, "           busy %.2f cores on average: server %.2f (with its git processes), this tool %.2f, everything else %.2f\n",
			m.BusyCores, m.ServerCores, m.ToolCores, max(m.BusyCores-m.ServerCores-m.ToolCores, 0))
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintf(&b, "targets:\n")
		for _, t := range rep.Targets {
			mark := "not measured"
			if t.Met != nil {
				mark = map[bool]string{true: "met", false: "MISSED"}[*t.Met]
			}
			fmt.Fprintf(&b, "  %-44s want %-10s got %10.1f %-3s %s\n", t.Name, t.Want, t.Got, t.Unit, mark)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeEndToEnd writes the end-to-end part of the table.
func (rep *Report) writeEndToEnd(b *strings.Builder) {
	e := rep.EndToEnd
	if e == nil {
		fmt.Fprintf(b, "git:       not watched (no --git-remote)\n")
		return
	}
	fmt.Fprintf(b, "git:       %d of %d releases created reached %s of %s", e.InGit, e.Acknowledged, e.Branch, e.Remote)
	if l := e.LatencyMs; l != nil {
		fmt.Fprintf(b, "; ack → in git p50 %.0f ms, p99 %.0f ms, max %.0f ms", l.P50, l.P99, l.Max)
	}
	fmt.Fprintln(b)
	if e.FinalExportLagMs != nil {
		fmt.Fprintf(b, "           final export lag (last ack → everything in git): %.0f ms\n", *e.FinalExportLagMs)
	}
	if e.TimedOut {
		fmt.Fprintf(b, "           TIMED OUT: %d acknowledged releases never arrived, e.g. %s\n", e.Acknowledged-e.InGit, strings.Join(e.Missing, ", "))
	}
	if e.PollErrors > 0 {
		fmt.Fprintf(b, "           %d polls of the remote failed, the last: %s\n", e.PollErrors, e.LastPollError)
	}
}

// formatErrors formats error counts as "409×3 transport×1", "-" for none.
func formatErrors(errs map[string]int) string {
	if len(errs) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(errs))
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, k+"×"+strconv.Itoa(errs[k]))
	}
	return strings.Join(parts, " ")
}
