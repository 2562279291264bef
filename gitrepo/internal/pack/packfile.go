package pack

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/klauspost/compress/zlib"
)

// Object types in a pack.
const (
	objCommit   = 1
	objTree     = 2
	objBlob     = 3
	objOfsDelta = 6
)

// How objects are compressed. Go's deflate costs about 10 µs per stream
// whatever its size (it builds Huffman tables for every block), and the
// trees and tree deltas of a batch are many and small and made mostly of
// SHA-1s, which do not compress: deflate saves a few percent of them for
// ten times the CPU of storing them (zlib's "stored" blocks, level 0).
// Commits, blobs and big full trees (whose names compress) use level 1,
// which gets most of what the default level gets at a third of its CPU.
const (
	packCompression = zlib.BestSpeed
	// minDeflate is the size below which nothing is worth deflating.
	minDeflate = 64
	// minDeflateTree is the size below which trees and deltas are stored.
	minDeflateTree = 4 << 10
)

// maxOffset32 is the largest offset a version 2 index stores in its
// 32-bit table; larger ones go to the 64-bit table.
const maxOffset32 = 0x7fffffff

// packFile writes one packfile (version 2) under a temporary name in
// objects/pack, then its index, and installs both. The object count in
// the pack's header is unknown until the end: finish patches it and hashes
// the file again, as fast-import does. Not safe for concurrent use.
type packFile struct {
	dir  string // objects/pack
	f    *os.File
	w    *bufio.Writer
	off  int64        // bytes written so far
	crc  uint32       // CRC-32 of the object being written, for the index
	zw   *zlib.Writer // level packCompression
	zs   *zlib.Writer // level 0: stored
	objs []packedObject
	ids  map[ID]int // object id → index in objs
	hdr  []byte     // scratch for object headers
	// mem, when not nil, keeps a copy of everything written: the bytes
	// of a tail pack, which the next batch's tail starts with.
	mem []byte
}

// packedObject is an object written to the pack.
type packedObject struct {
	id     ID
	offset int64
	crc    uint32
	depth  int // length of its delta chain: 0 for a whole object
}

// createPackFile starts a pack in dir (objects/pack), keeping a copy of
// its bytes in memory if retain (a tail's). The temporary name is the one
// Git uses, so `git gc` removes it if the process dies.
func createPackFile(dir string, retain bool) (*packFile, error) {
	f, err := os.CreateTemp(dir, "tmp_pack_")
	if err != nil {
		return nil, fmt.Errorf("create pack: %w", err)
	}
	p := &packFile{dir: dir, f: f, w: bufio.NewWriterSize(f, 256<<10), ids: map[ID]int{}}
	p.zw, _ = zlib.NewWriterLevel(p, packCompression) // the levels are valid
	p.zs, _ = zlib.NewWriterLevel(p, zlib.NoCompression)
	if retain {
		p.mem = []byte{}
	}
	// "PACK", version 2, and the object count finish fills in.
	if _, err := p.Write([]byte{'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0}); err != nil {
		p.discard()
		return nil, fmt.Errorf("write pack: %w", err)
	}
	return p, nil
}

// Write appends b to the pack, counting it into the offset and the CRC of
// the current object. zlib writes through it.
func (p *packFile) Write(b []byte) (int, error) {
	p.crc = crc32.Update(p.crc, crc32.IEEETable, b)
	if p.mem != nil {
		p.mem = append(p.mem, b...)
	}
	n, err := p.w.Write(b)
	p.off += int64(n)
	return n, err
}

// resume starts the pack with the bytes and objects of the tail pack t,
// which it takes over: the objects keep their offsets, so deltas against
// them are ordinary OFS_DELTAs. The object count in the copied header is
// patched by complete.
func (p *packFile) resume(t *tailPack) error {
	if _, err := p.w.Write(t.data[12:]); err != nil { // the header is written
		return fmt.Errorf("write pack: %w", err)
	}
	p.mem = t.data
	p.off = int64(len(t.data))
	p.objs, p.ids = t.objs, t.ids
	return nil
}

// lookup returns the object id if the pack already holds it.
func (p *packFile) lookup(id ID) (packedObject, bool) {
	i, ok := p.ids[id]
	if !ok {
		return packedObject{}, false
	}
	return p.objs[i], true
}

// writeWhole appends object id of kind (objCommit, objTree, objBlob),
// whose content is data, compressed.
func (p *packFile) writeWhole(id ID, kind byte, data []byte) (packedObject, error) {
	return p.write(packedObject{id: id}, kind, len(data), nil, data)
}

// writeDelta appends object id as delta, an OFS_DELTA against base, an
// object written earlier in this pack.
func (p *packFile) writeDelta(id ID, base packedObject, delta []byte) (packedObject, error) {
	ofs := appendOfsOffset(nil, p.off-base.offset)
	return p.write(packedObject{id: id, depth: base.depth + 1}, objOfsDelta, len(delta), ofs, delta)
}

// write appends one object: its type and size header, the base offset of
// a delta (extra), and the compressed data.
func (p *packFile) write(obj packedObject, kind byte, size int, extra, data []byte) (packedObject, error) {
	obj.offset = p.off
	p.crc = 0
	p.hdr = appendObjectHeader(p.hdr[:0], kind, size)
	p.hdr = append(p.hdr, extra...)
	if _, err := p.Write(p.hdr); err != nil {
		return obj, fmt.Errorf("write pack: %w", err)
	}
	zw := p.zw
	if len(data) < minDeflate || (kind == objTree || kind == objOfsDelta) && len(data) < minDeflateTree {
		zw = p.zs
	}
	zw.Reset(p)
	if _, err := zw.Write(data); err != nil {
		return obj, fmt.Errorf("write pack: %w", err)
	}
	if err := zw.Close(); err != nil {
		return obj, fmt.Errorf("write pack: %w", err)
	}
	obj.crc = p.crc
	p.ids[obj.id] = len(p.objs)
	p.objs = append(p.objs, obj)
	return obj, nil
}

// appendObjectHeader appends a pack object header: the type in bits 4-6
// of the first byte, the size in its low 4 bits and then 7 bits a byte,
// least significant first, the top bit saying another byte follows.
func appendObjectHeader(buf []byte, kind byte, size int) []byte {
	c := kind<<4 | byte(size&15)
	for size >>= 4; size > 0; size >>= 7 {
		buf = append(buf, c|0x80)
		c = byte(size & 0x7f)
	}
	return append(buf, c)
}

// appendOfsOffset appends the distance back to an OFS_DELTA's base in
// Git's encoding: 7 bits a byte, most significant first, each
// continuation adding one so that no two encodings mean the same number.
func appendOfsOffset(buf []byte, ofs int64) []byte {
	var tmp [10]byte
	pos := len(tmp) - 1
	tmp[pos] = byte(ofs & 0x7f)
	for ofs >>= 7; ofs > 0; ofs >>= 7 {
		ofs--
		pos--
		tmp[pos] = 0x80 | byte(ofs&0x7f)
	}
	return append(buf, tmp[pos:]...)
}

// install completes the pack and its index and moves them into place as
// pack-<checksum>.pack and .idx. The pack goes first: Git finds packs by
// their index, so a reader never sees an index without its pack.
func (p *packFile) install() error {
	if _, err := p.installKept(false); err != nil {
		return err
	}
	return syncDir(p.dir)
}

// installKept is install, with a .keep file (a tail's) if keep, written
// before the index makes the pack visible, and without syncing the
// directory: a batch of two packs syncs it once. It returns the
// installed pack's path without its extension.
func (p *packFile) installKept(keep bool) (string, error) {
	sum, err := p.complete()
	if err != nil {
		p.discard()
		return "", err
	}
	base := filepath.Join(p.dir, "pack-"+hex.EncodeToString(sum[:]))
	if keep {
		if err := os.WriteFile(base+".keep", []byte(tailKeep), 0o644); err != nil {
			p.discard()
			return "", fmt.Errorf("write pack keep file: %w", err)
		}
	}
	if err := p.installAs(base, sum); err != nil {
		os.Remove(base + ".keep")
		return "", err
	}
	return base, nil
}

// installAs writes the index of the completed pack and moves both into
// place as base.pack and base.idx.
func (p *packFile) installAs(base string, sum [20]byte) error {
	if err := closeReadOnly(p.f); err != nil {
		p.discard()
		return fmt.Errorf("write pack: %w", err)
	}
	idx, err := p.writeIndexFile(sum)
	if err != nil {
		p.discard()
		return err
	}
	if err := os.Rename(p.f.Name(), base+".pack"); err != nil {
		os.Remove(idx)
		p.discard()
		return fmt.Errorf("install pack: %w", err)
	}
	if err := os.Rename(idx, base+".idx"); err != nil {
		os.Remove(idx)
		return fmt.Errorf("install pack index: %w", err)
	}
	return nil
}

// complete writes the object count and the trailing checksum of the
// pack, and returns the checksum.
func (p *packFile) complete() ([20]byte, error) {
	var sum [20]byte
	if err := p.w.Flush(); err != nil {
		return sum, fmt.Errorf("write pack: %w", err)
	}
	var count [4]byte
	binary.BigEndian.PutUint32(count[:], uint32(len(p.objs)))
	if _, err := p.f.WriteAt(count[:], 8); err != nil {
		return sum, fmt.Errorf("write pack: %w", err)
	}
	h := sha1.New()
	if p.mem != nil { // what was written is at hand
		copy(p.mem[8:12], count[:])
		h.Write(p.mem)
	} else if _, err := io.Copy(h, io.NewSectionReader(p.f, 0, p.off)); err != nil {
		return sum, fmt.Errorf("read pack back: %w", err)
	}
	h.Sum(sum[:0])
	if _, err := p.f.WriteAt(sum[:], p.off); err != nil {
		return sum, fmt.Errorf("write pack: %w", err)
	}
	return sum, nil
}

// writeIndexFile writes the pack's index to a temporary file in the pack
// directory and returns its name.
func (p *packFile) writeIndexFile(packSum [20]byte) (string, error) {
	f, err := os.CreateTemp(p.dir, "tmp_idx_")
	if err != nil {
		return "", fmt.Errorf("create pack index: %w", err)
	}
	err = writeIndex(f, p.objs, packSum, maxOffset32)
	if err == nil {
		err = closeReadOnly(f)
	} else {
		f.Close()
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write pack index: %w", err)
	}
	return f.Name(), nil
}

// closeReadOnly syncs f, makes it read-only as Git keeps its packs, and
// closes it.
func closeReadOnly(f *os.File) error {
	err := f.Chmod(0o444)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the renames into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// discard removes the unfinished pack.
func (p *packFile) discard() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// writeIndex writes a version 2 pack index of objs: a fan-out table, the
// sorted ids, the CRC-32 of each object's packed bytes, its offset (31
// bits, or an index into a table of 64-bit offsets for offsets above
// large), the pack's checksum and the index's own. Tests lower large to
// reach the 64-bit table without a 2 GiB pack.
func writeIndex(out io.Writer, objs []packedObject, packSum [20]byte, large int64) error {
	sorted := slices.Clone(objs)
	slices.SortFunc(sorted, func(a, b packedObject) int { return bytes.Compare(a.id[:], b.id[:]) })
	var fanout [256]uint32
	for _, o := range sorted {
		fanout[o.id[0]]++
	}
	for i := 1; i < 256; i++ {
		fanout[i] += fanout[i-1]
	}
	buf := make([]byte, 0, 8+256*4+len(sorted)*(20+4+4)+40)
	buf = append(buf, 0xff, 't', 'O', 'c', 0, 0, 0, 2)
	for _, n := range fanout {
		buf = binary.BigEndian.AppendUint32(buf, n)
	}
	for _, o := range sorted {
		buf = append(buf, o.id[:]...)
	}
	for _, o := range sorted {
		buf = binary.BigEndian.AppendUint32(buf, o.crc)
	}
	var wide []byte
	for _, o := range sorted {
		if o.offset > large {
			buf = binary.BigEndian.AppendUint32(buf, 0x80000000|uint32(len(wide)/8))
			wide = binary.BigEndian.AppendUint64(wide, uint64(o.offset))
			continue
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(o.offset))
	}
	buf = append(append(buf, wide...), packSum[:]...)
	sum := sha1.Sum(buf)
	_, err := out.Write(append(buf, sum[:]...))
	return err
}
