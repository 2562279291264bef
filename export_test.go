package railyard

// SetTrainPlanned sets the hook a release train calls after it was
// planned on a snapshot and before it is written, so that tests can
// commit changes in between.
func SetTrainPlanned(e *Engine, f func()) { e.trainPlanned = f }
