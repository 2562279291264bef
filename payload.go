package railyard

// eventPayloader is a command whose event payload differs from the
// command as given.
type eventPayloader interface {
	eventPayload() any
}

// eventPayload leaves out the manifests: they are stored with the release
// and carried once by the event's release.create change, which is what the
// Git exporter reads. Repeating megabytes in the payload would double what
// every release writes.
func (cr *CreateRelease) eventPayload() any {
	p := *cr
	p.Manifests = nil
	return &p
}

// payloadOf returns what an event records as the command's payload.
func payloadOf(cmd Command) any {
	if p, ok := cmd.(eventPayloader); ok {
		return p.eventPayload()
	}
	return cmd
}
