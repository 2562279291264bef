package railyard

import (
	"fmt"
	"strings"
)

// describeTrain says what a train did (or, dry run, would do) in words:
// "Release train to production from staging: 12 deployed, 1 queued,
// 3 skipped", and in details what it skipped, deployed and queued. When
// that does not fit a summary line, the summary leaves out, until it
// fits, the members of a group and the environments skipped, then the
// counts of 0, then the upstream.
func describeTrain(r *TrainResult) Description {
	if d, ok := describePromotion(r); ok {
		return d
	}
	summary := firstFitting(trainSummary(r, trainFull), trainSummary(r, trainNoMembers),
		trainSummary(r, trainNoMembers|trainNoZeros), trainSummary(r, trainNoMembers|trainNoZeros|trainNoUpstream))
	if r.DryRun {
		return NewDescription(summary) // a prognosis is no event: its details would go nowhere
	}
	return NewDescription(summary, trainDetails(r)...)
}

// trainSummaryForm says what a train's summary leaves out to fit.
type trainSummaryForm int

const (
	trainFull trainSummaryForm = 0
	// trainNoMembers leaves out the members of a group and the
	// environments skipped.
	trainNoMembers trainSummaryForm = 1 << iota
	// trainNoZeros leaves out counts of 0.
	trainNoZeros
	// trainNoUpstream leaves out where the versions come from.
	trainNoUpstream
)

// trainSummary is the summary line of a train in the given form.
func trainSummary(r *TrainResult, form trainSummaryForm) string {
	members := form&trainNoMembers == 0
	var b strings.Builder
	switch {
	case r.Application != "":
		fmt.Fprintf(&b, "Promote %s", r.Application)
	case r.ScheduledAt != nil:
		b.WriteString("Scheduled release train")
	default:
		b.WriteString("Release train")
	}
	if r.Team != "" {
		fmt.Fprintf(&b, " for team %s", r.Team)
	}
	b.WriteString(" to " + describeTarget(r, members))
	if up := commonUpstream(r); form&trainNoUpstream == 0 && up != "" {
		b.WriteString(" from " + describeUpstream(up))
	}
	b.WriteString(": " + trainCounts(r, form&trainNoZeros != 0))
	for _, te := range r.Environments {
		if members && te.SkipReason != "" {
			fmt.Fprintf(&b, "; %s skipped (%s)", te.Environment, te.SkipReason)
		}
	}
	if r.DryRun {
		return prognosisOf(b.String())
	}
	return b.String()
}

// trainCounts says how many applications a train deployed, queued and
// skipped (or would): "1,204 deployed, 1 queued, 0 skipped"; noZeros
// leaves out counts of 0 unless all are.
func trainCounts(r *TrainResult, noZeros bool) string {
	verbs := [3]string{"deployed", "queued", "skipped"}
	if r.DryRun {
		verbs = [3]string{"to deploy", "to queue", "to skip"}
	}
	counts := [3]int{r.Deployed, r.Queued, r.Skipped}
	noZeros = noZeros && counts != [3]int{}
	var parts []string
	for i, n := range counts {
		if n > 0 || !noZeros {
			parts = append(parts, FormatCount(n)+" "+verbs[i])
		}
	}
	return strings.Join(parts, ", ")
}

// trainDetails is one line per environment skipped and per application
// deployed or queued, in pipeline order: "Skip environment adhoc
// (environment-not-in-chain)", "Deploy checkout 5 to production (was
// 4)", "Queue cart 3 in production (blocked by environment lock
// "freeze")".
func trainDetails(r *TrainResult) []string {
	var lines []string
	for _, te := range r.Environments {
		if te.SkipReason != "" {
			lines = append(lines, fmt.Sprintf("Skip environment %s (%s)", te.Environment, te.SkipReason))
		}
		for _, a := range te.Applications {
			if l := trainApplicationLine(te.Environment, a); l != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// trainApplicationLine says what a train did with one application, or
// "" if it skipped it.
func trainApplicationLine(env string, a *TrainApplication) string {
	switch a.Outcome {
	case OutcomeDeployed:
		l := fmt.Sprintf("Deploy %s %s to %s", a.Application, versionString(a.To), env)
		if a.From != nil {
			l += fmt.Sprintf(" (was %d)", *a.From)
		}
		return l
	case OutcomeQueued:
		return fmt.Sprintf("Queue %s %s in %s (blocked by %s)", a.Application, versionString(a.To), env, blockerNames(a.Blockers))
	}
	return ""
}

// prognosisOf turns "Release train to …" into "Prognosis: release train
// to …".
func prognosisOf(s string) string {
	return "Prognosis: " + strings.ToLower(s[:1]) + s[1:]
}

// describePromotion says what a promotion into one environment did:
// "Promote checkout 5 to production from staging (was 4)"; blockers that
// do not fit are counted, and named in the details.
func describePromotion(r *TrainResult) (Description, bool) {
	if r.Application == "" || len(r.Environments) != 1 || len(r.Environments[0].Applications) != 1 {
		return Description{}, false
	}
	te, a := r.Environments[0], r.Environments[0].Applications[0]
	var b strings.Builder
	fmt.Fprintf(&b, "Promote %s", a.Application)
	if a.To != nil {
		fmt.Fprintf(&b, " %d", *a.To)
	}
	fmt.Fprintf(&b, " to %s from %s", te.Environment, describeUpstream(te.Upstream))
	head := b.String()
	var full, compact string
	switch a.Outcome {
	case OutcomeDeployed:
		if a.From != nil {
			head += fmt.Sprintf(" (was %d)", *a.From)
		}
		full, compact = head, head
	case OutcomeQueued:
		full = head + ": queued (blocked by " + blockerNames(a.Blockers) + ")"
		compact = head + ": queued (blocked by " + countBlockers(a.Blockers) + ")"
	default:
		full = head + ": skipped (" + a.SkipReason + ")"
		compact = full
	}
	if r.DryRun {
		full, compact = prognosisOf(full), prognosisOf(compact)
	}
	if fits(full) {
		return NewDescription(full), true
	}
	var details []string
	if !r.DryRun {
		details = blockerDetails("Blocked by", a.Blockers)
	}
	return NewDescription(compact, details...), true
}

// describeTarget names the target: "production" or "environment group
// prod (de-prod, jp-prod)"; without members, "environment group prod".
func describeTarget(r *TrainResult, members bool) string {
	if r.Group == "" {
		return r.Environment
	}
	if !members {
		return "environment group " + r.Group
	}
	names := make([]string, len(r.Environments))
	for i, te := range r.Environments {
		names[i] = te.Environment
	}
	return fmt.Sprintf("environment group %s (%s)", r.Group, strings.Join(names, ", "))
}

// commonUpstream returns the upstream all planned environments share, or
// "" if they differ.
func commonUpstream(r *TrainResult) string {
	from := ""
	for _, te := range r.Environments {
		switch {
		case te.SkipReason != "":
		case from == "":
			from = te.Upstream
		case from != te.Upstream:
			return ""
		}
	}
	return from
}
