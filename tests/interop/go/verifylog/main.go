// Command verifylog checks a handover log exported in the C2SP tlog-tiles layout with Go's own
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog: an implementation written by others, so that what
// handover publishes is proven to verify with tools that do not share its code.
//
//	verifylog log DIR VKEY     check an exported log directory (`handover log export DIR`)
//	verifylog note FILE VKEY   open a signed note and print its text
//	verifylog sign FILE SKEY   sign the text in FILE with a note signer key and print the signed note
//	verifylog paths FILE -     print Go's path for each "L N W" line of FILE (L = -1: the entry bundle)
//
// `log` opens the checkpoint, reads every entry bundle, recomputes every stored hash in memory with
// tlog.StoredHashes, checks tlog.TreeHash against the signed root, compares every published hash tile byte for byte
// with what it recomputes (tlog.TileHashReader alone does not check every tile it returns, so nothing is taken
// on trust), and checks inclusion proofs for a few leaves, both from the recomputed tree and from the published
// tiles. It exits with status 1 and a message naming the first thing wrong, and prints a summary when all is well.
//
// Written for Go 1.19 and golang.org/x/mod v0.7.0 (Debian 12's packages) and built offline in GOPATH mode.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is fixed by C2SP tlog-tiles: tiles are 8 tree levels high, 256 hashes wide.
const tileHeight = 8
const tileWidth = 1 << tileHeight

func main() {
	if len(os.Args) != 4 {
		fail("usage: verifylog log DIR VKEY | note FILE VKEY | sign FILE SKEY | paths FILE -")
	}
	var err error
	switch os.Args[1] {
	case "log":
		err = verifyLog(os.Args[2], os.Args[3])
	case "note":
		err = printNote(os.Args[2], os.Args[3])
	case "sign":
		err = signNote(os.Args[2], os.Args[3])
	case "paths":
		err = printPaths(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "verifylog: FAIL:", message)
	os.Exit(1)
}

func openNote(msg []byte, vkey string) (*note.Note, note.Verifier, error) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, fmt.Errorf("verifier key: %v", err)
	}
	opened, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return nil, nil, fmt.Errorf("note.Open: %v", err)
	}
	return opened, verifier, nil
}

func printNote(file, vkey string) error {
	msg, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	opened, _, err := openNote(msg, vkey)
	if err != nil {
		return err
	}
	fmt.Print(opened.Text)
	return nil
}

func signNote(file, skey string) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return fmt.Errorf("signer key: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return fmt.Errorf("note.Sign: %v", err)
	}
	_, err = os.Stdout.Write(msg)
	return err
}

// printPaths prints, for each "L N W" line, the C2SP path Go's tlog.Tile.Path() gives once the tile height element
// it adds is taken out (tile/8/L/... becomes tile/L/..., tile/8/data/... becomes tile/entries/...).
func printPaths(file string) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		var level, width int
		var n int64
		if _, err := fmt.Sscanf(line, "%d %d %d", &level, &n, &width); err != nil {
			return fmt.Errorf("bad line %q: %v", line, err)
		}
		path := tlog.Tile{H: tileHeight, L: level, N: n, W: width}.Path()
		if level == -1 {
			path = strings.Replace(path, "tile/8/data/", "tile/entries/", 1)
		} else {
			path = strings.Replace(path, "tile/8/", "tile/", 1)
		}
		fmt.Println(path)
	}
	return nil
}

// checkpoint is a parsed C2SP tlog-checkpoint body.
type checkpoint struct {
	origin     string
	size       int64
	root       tlog.Hash
	extensions []string
}

// parseCheckpoint reads origin, size and root hash strictly: the note text is at least three non-empty lines, the
// size a decimal without leading zeroes, the root canonical padded base64 of 32 bytes.
func parseCheckpoint(text string) (checkpoint, error) {
	var c checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errors.New("checkpoint text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("checkpoint has %d lines, not at least 3", len(lines))
	}
	for i, line := range lines {
		if line == "" {
			return c, fmt.Errorf("checkpoint line %d is empty", i+1)
		}
	}
	c.origin = lines[0]
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return c, fmt.Errorf("checkpoint size %q is not a canonical decimal", lines[1])
	}
	c.size = size
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize || base64.StdEncoding.EncodeToString(root) != lines[2] {
		return c, fmt.Errorf("checkpoint root %q is not a canonical base64 SHA-256 hash", lines[2])
	}
	copy(c.root[:], root)
	c.extensions = lines[3:]
	return c, nil
}

// encodeIndex writes N as C2SP tlog-tiles does: zero-padded 3-digit groups, all but the last prefixed with x.
func encodeIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

func widthSuffix(w int) string {
	if w == tileWidth {
		return ""
	}
	return fmt.Sprintf(".p/%d", w)
}

// tilePath is the C2SP path of a hash tile, `tile/<L>/<N>[.p/<W>]`. Go's Tile.Path() is `tile/<H>/<L>/...`, with the
// tile height as an extra element; this one is written independently and cross-checked against Go's below.
func tilePath(t tlog.Tile) string {
	if t.H != tileHeight {
		panic("C2SP tiles are 8 levels high")
	}
	path := fmt.Sprintf("tile/%d/%s%s", t.L, encodeIndex(t.N), widthSuffix(t.W))
	goPath := t.Path()
	if want := "tile/" + strings.TrimPrefix(goPath, "tile/8/"); want != path {
		panic(fmt.Sprintf("tile path %s disagrees with Go's %s", path, goPath))
	}
	return path
}

// bundlePath is the C2SP path of entry bundle N of width W, `tile/entries/<N>[.p/<W>]`.
func bundlePath(n int64, w int) string {
	return fmt.Sprintf("tile/entries/%s%s", encodeIndex(n), widthSuffix(w))
}

// publishedTiles lists every hash tile a tree of `size` leaves publishes: at each level every full tile and the
// partial one, if any ('The partial tile at level l for a tree of size s has floor(s / 256**l) mod 256 entries').
func publishedTiles(size int64) []tlog.Tile {
	var tiles []tlog.Tile
	for level := 0; ; level++ {
		row := size >> (uint(tileHeight) * uint(level))
		if row == 0 {
			return tiles
		}
		for n := int64(0); n < row/tileWidth; n++ {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: level, N: n, W: tileWidth})
		}
		if w := int(row % tileWidth); w > 0 {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: level, N: row / tileWidth, W: w})
		}
	}
}

// decodeBundle splits an entry bundle into its uint16 big-endian length-prefixed entries.
func decodeBundle(data []byte) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("bundle ends inside a length prefix")
		}
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		if len(data) < n {
			return nil, fmt.Errorf("bundle ends inside an entry of %d bytes", n)
		}
		entries = append(entries, data[:n])
		data = data[n:]
	}
	return entries, nil
}

// memoryHashes is a tlog.HashReader over stored hashes recomputed in memory.
type memoryHashes []tlog.Hash

func (m memoryHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, index := range indexes {
		if index < 0 || index >= int64(len(m)) {
			return nil, fmt.Errorf("no stored hash %d (have %d)", index, len(m))
		}
		out[i] = m[index]
	}
	return out, nil
}

// dirTiles is a tlog.TileReader over the published hash tiles in an export directory.
type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return tileHeight }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(tilePath(t))))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func verifyLog(dir, vkey string) error {
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return err
	}
	opened, verifier, err := openNote(msg, vkey)
	if err != nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	cp, err := parseCheckpoint(opened.Text)
	if err != nil {
		return err
	}
	if cp.origin != verifier.Name() {
		return fmt.Errorf("checkpoint origin %q is not the key's name %q", cp.origin, verifier.Name())
	}

	// Entries: every bundle of the tree, each exactly as wide as the tree says, hashed into stored hashes.
	var hashes memoryHashes
	leafHashes := make([]tlog.Hash, 0, cp.size)
	entryCount := int64(0)
	bundles := 0
	for n := int64(0); n*tileWidth < cp.size; n++ {
		width := cp.size - n*tileWidth
		if width > tileWidth {
			width = tileWidth
		}
		path := bundlePath(n, int(width))
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil {
			return fmt.Errorf("entry bundle: %v", err)
		}
		entries, err := decodeBundle(data)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if int64(len(entries)) != width {
			return fmt.Errorf("%s holds %d entries, not %d", path, len(entries), width)
		}
		for _, entry := range entries {
			stored, err := tlog.StoredHashes(entryCount, entry, hashes)
			if err != nil {
				return fmt.Errorf("entry %d: %v", entryCount, err)
			}
			hashes = append(hashes, stored...)
			leafHashes = append(leafHashes, tlog.RecordHash(entry))
			entryCount++
		}
		bundles++
	}
	if int64(len(hashes)) != tlog.StoredHashCount(cp.size) {
		return fmt.Errorf("recomputed %d stored hashes, want %d", len(hashes), tlog.StoredHashCount(cp.size))
	}

	// The tree the entries make must be the one the checkpoint signed.
	root, err := tlog.TreeHash(cp.size, hashes)
	if err != nil {
		return err
	}
	if cp.size == 0 {
		// Go's TreeHash gives the empty tree an all-zero hash; RFC 9162 and C2SP give it SHA-256 of nothing.
		root = sha256.Sum256(nil)
	}
	if root != cp.root {
		return fmt.Errorf("the entries hash to root %s, but the checkpoint signed %s (size %d)", root, cp.root, cp.size)
	}

	// Every published hash tile must be exactly what the entries give: recomputed, compared byte for byte.
	tiles := publishedTiles(cp.size)
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, hashes)
		if err != nil {
			return fmt.Errorf("%s: %v", tilePath(t), err)
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(tilePath(t))))
		if err != nil {
			return fmt.Errorf("hash tile: %v", err)
		}
		if !bytes.Equal(got, want) {
			if len(got) != len(want) {
				return fmt.Errorf("%s holds %d bytes, want %d", tilePath(t), len(got), len(want))
			}
			for i := 0; i < len(want); i += tlog.HashSize {
				if !bytes.Equal(got[i:i+tlog.HashSize], want[i:i+tlog.HashSize]) {
					return fmt.Errorf("%s: hash %d differs from the one recomputed from the entries", tilePath(t), i/tlog.HashSize)
				}
			}
		}
	}

	// Inclusion proofs for a few leaves, proved from the recomputed tree and from the published tiles, both
	// checked against the signed root.
	fromTiles := tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, dirTiles{dir})
	proved := 0
	for _, index := range []int64{0, 1, cp.size / 3, cp.size / 2, cp.size - 2, cp.size - 1} {
		if index < 0 || index >= cp.size {
			continue
		}
		for _, source := range []struct {
			name   string
			reader tlog.HashReader
		}{{"recomputed tree", hashes}, {"published tiles", fromTiles}} {
			proof, err := tlog.ProveRecord(cp.size, index, source.reader)
			if err != nil {
				return fmt.Errorf("inclusion proof of leaf %d from the %s: %v", index, source.name, err)
			}
			if err := tlog.CheckRecord(proof, cp.size, cp.root, index, leafHashes[index]); err != nil {
				return fmt.Errorf("inclusion proof of leaf %d from the %s: %v", index, source.name, err)
			}
			proved++
		}
	}

	fmt.Printf("OK %s: size %d, root %s, %d entry bundles, %d hash tiles, %d inclusion proofs checked\n",
		cp.origin, cp.size, cp.root, bundles, len(tiles), proved)
	return nil
}
