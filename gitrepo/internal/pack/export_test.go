package pack

// MaxDeltaDepth is maxDeltaDepth, for the tests of package pack_test.
const MaxDeltaDepth = maxDeltaDepth
