package pack

import (
	"encoding/binary"
	"math/bits"
)

// Git's delta format, written structurally: a new version of a tree
// differs from the previous one in the few entries an event changed, which
// sit together in one region of a sorted tree. Copying the common prefix
// and suffix and inserting the middle finds that region in two memory
// comparisons, where a general delta (fast-import's) indexes the whole
// base first.

// Limits of Git's delta instructions.
const (
	maxCopySize   = 0x10000 // the most one copy instruction copies, as Git writes them
	maxInsertSize = 0x7f    // the most one insert instruction carries
)

// appendDelta appends to buf a delta that turns base into target: the
// sizes of both, a copy of their common prefix, an insert of target's
// differing middle, and a copy of their common suffix.
func appendDelta(buf, base, target []byte) []byte {
	buf = appendDeltaSize(buf, len(base))
	buf = appendDeltaSize(buf, len(target))
	prefix := commonPrefix(base, target)
	suffix := commonSuffix(base[prefix:], target[prefix:])
	buf = appendCopy(buf, 0, prefix)
	buf = appendInsert(buf, target[prefix:len(target)-suffix])
	return appendCopy(buf, len(base)-suffix, suffix)
}

// appendDeltaSize appends a size of the delta header: 7 bits a byte,
// least significant first, the top bit saying another byte follows.
func appendDeltaSize(buf []byte, n int) []byte {
	for ; n >= 0x80; n >>= 7 {
		buf = append(buf, byte(n)|0x80)
	}
	return append(buf, byte(n))
}

// appendCopy appends copy instructions for n bytes of the base at off.
// An instruction is 0x80 with one bit per non-zero byte of the offset (4
// bytes) and of the size (3 bytes) that follow; a size of 0x10000 is
// written as no size bytes at all.
func appendCopy(buf []byte, off, n int) []byte {
	for n > 0 {
		size := min(n, maxCopySize)
		op := len(buf)
		buf = append(buf, 0x80)
		for i := 0; i < 4; i++ {
			if b := byte(off >> (8 * i)); b != 0 {
				buf[op] |= 1 << i
				buf = append(buf, b)
			}
		}
		for i := 0; i < 3 && size != maxCopySize; i++ {
			if b := byte(size >> (8 * i)); b != 0 {
				buf[op] |= 0x10 << i
				buf = append(buf, b)
			}
		}
		off += size
		n -= size
	}
	return buf
}

// appendInsert appends insert instructions carrying data: a length byte
// (1 to 127) and that many bytes each.
func appendInsert(buf, data []byte) []byte {
	for len(data) > 0 {
		n := min(len(data), maxInsertSize)
		buf = append(buf, byte(n))
		buf = append(buf, data[:n]...)
		data = data[n:]
	}
	return buf
}

// commonPrefix returns the length of the longest common prefix of a and
// b, comparing eight bytes at a time.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// commonSuffix returns the length of the longest common suffix of a and
// b, comparing eight bytes at a time.
func commonSuffix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		x := binary.BigEndian.Uint64(a[len(a)-i-8:]) ^ binary.BigEndian.Uint64(b[len(b)-i-8:])
		if x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}
