package sqlite

import "strings"

// where builds a WHERE clause from optional conditions. Values are always
// bound, never written into the SQL, so the text of a query depends only
// on which conditions are present and a finite set of texts can be
// prepared in advance.
type where struct {
	conds []string
	args  []any
}

// eq adds "col = value" unless value is empty (empty matches everything).
func (w *where) eq(col, value string) {
	if value != "" {
		w.add(col+" = ?", value)
	}
}

// add adds a condition with its arguments.
func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// clause returns " WHERE c1 AND c2 …", or "" without conditions.
func (w *where) clause() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// readQueries are the queries prepared on every connection.
func readQueries() []string {
	qs := []string{
		findEnvironmentSQL, findEnvironmentsSQL,
		findApplicationSQL, findApplicationsSQL,
		findReleaseSQL, findReleasesSQL, findAllReleasesSQL, findReleaseManifestsSQL,
		findReleasesManifestsSQL, maxReleaseVersionSQL, findRetiredReleaseSQL, isRetiredSQL, findReleaseDigestSQL,
		findManifestContentSQL, hasReleasesSQL,
		findDeploymentSQL,
		lastEventIDSQL, eventChangesAfterSQL,
	}
	qs = append(qs, deploymentQueries()...)
	return append(qs, lockQueries()...)
}

// writeQueries are the queries prepared on the write connection.
func writeQueries() []string {
	return append(readQueries(),
		putEnvironmentSQL, deleteEnvironmentSQL,
		putApplicationSQL, deleteApplicationSQL,
		createReleaseSQL, createReleaseManifestSQL, deleteReleaseSQL, createRetiredReleaseSQL,
		putManifestContentSQL,
		putDeploymentSQL, deleteDeploymentSQL,
		putLockSQL, deleteLockSQL,
		createEventSQL, createEventRefSQL,
	)
}
