// estargz-check: checks eStargz blobs with containerd/stargz-snapshotter's own estargz package
// (Debian: golang-github-containerd-stargz-snapshotter-dev), so imgbuild's writer is judged by the
// reference reader rather than by itself. Test-only; built by tests/tools/estargz-check/build.sh.
//
//	estargz-check verify BLOB TOC_DIGEST   open BLOB, verify its TOC against TOC_DIGEST and every
//	                                       chunk of every regular file against the TOC; prints a
//	                                       summary line, exits 1 on any failure
//	estargz-check build TAR OUT [FILE...]  convert the plain tar TAR to an eStargz blob OUT with the
//	                                       reference writer, FILEs first (prioritized, before a
//	                                       .prefetch.landmark); prints {"tocDigest":..,"diffID":..}
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "estargz-check: "+format+"\n", args...)
	os.Exit(1)
}

func walk(r *estargz.Reader, e *estargz.TOCEntry, visit func(*estargz.TOCEntry)) {
	visit(e)
	var names []string
	children := map[string]*estargz.TOCEntry{}
	e.ForeachChild(func(name string, c *estargz.TOCEntry) bool {
		names = append(names, name)
		children[name] = c
		return true
	})
	sort.Strings(names)
	for _, n := range names {
		walk(r, children[n], visit)
	}
}

func verify(blobPath, tocDigest string) {
	f, err := os.Open(blobPath)
	if err != nil {
		fail("%v", err)
	}
	st, err := f.Stat()
	if err != nil {
		fail("%v", err)
	}
	r, err := estargz.Open(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		fail("open %s: %v", blobPath, err)
	}
	want, err := digest.Parse(tocDigest)
	if err != nil {
		fail("TOC digest %q: %v", tocDigest, err)
	}
	v, err := r.VerifyTOC(want)
	if err != nil {
		fail("verify TOC of %s: %v", blobPath, err)
	}
	root, ok := r.Lookup("")
	if !ok {
		fail("%s: no root directory", blobPath)
	}
	files, chunks, entries := 0, 0, 0
	var firstErr error
	walk(r, root, func(e *estargz.TOCEntry) {
		entries++
		if e.Type != "reg" || e.Size == 0 {
			return
		}
		files++
		sr, err := r.OpenFile(e.Name)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("open %s: %v", e.Name, err)
			return
		}
		for off := int64(0); off < e.Size; {
			ce, ok := r.ChunkEntryForOffset(e.Name, off)
			if !ok {
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: no chunk at offset %d", e.Name, off)
				}
				return
			}
			cv, err := v.Verifier(ce)
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: verifier: %v", e.Name, err)
				}
				return
			}
			buf := make([]byte, ce.ChunkSize)
			if _, err := sr.ReadAt(buf, ce.ChunkOffset); err != nil && err != io.EOF {
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: read chunk at %d: %v", e.Name, ce.ChunkOffset, err)
				}
				return
			}
			if _, err := cv.Write(buf); err != nil || !cv.Verified() {
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: chunk at %d fails its digest", e.Name, ce.ChunkOffset)
				}
				return
			}
			chunks++
			off = ce.ChunkOffset + ce.ChunkSize
		}
	})
	if firstErr != nil {
		fail("%s: %v", blobPath, firstErr)
	}
	fmt.Printf("ok: %d entries, %d files, %d chunks verified\n", entries, files, chunks)
}

func build(tarPath, outPath string, prioritized []string) {
	f, err := os.Open(tarPath)
	if err != nil {
		fail("%v", err)
	}
	st, err := f.Stat()
	if err != nil {
		fail("%v", err)
	}
	var opts []estargz.Option
	if len(prioritized) > 0 {
		opts = append(opts, estargz.WithPrioritizedFiles(prioritized))
	}
	blob, err := estargz.Build(io.NewSectionReader(f, 0, st.Size()), opts...)
	if err != nil {
		fail("build %s: %v", tarPath, err)
	}
	defer blob.Close()
	out, err := os.Create(outPath)
	if err != nil {
		fail("%v", err)
	}
	if _, err := io.Copy(out, blob); err != nil {
		fail("write %s: %v", outPath, err)
	}
	if err := out.Close(); err != nil {
		fail("close %s: %v", outPath, err)
	}
	doc, _ := json.Marshal(map[string]interface{}{
		"tocDigest": blob.TOCDigest().String(),
		"diffID":    blob.DiffID().String(),
	})
	fmt.Println(string(doc))
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "verify" {
		verify(os.Args[2], os.Args[3])
	} else if len(os.Args) >= 4 && os.Args[1] == "build" {
		build(os.Args[2], os.Args[3], os.Args[4:])
	} else {
		fail("usage: estargz-check verify BLOB TOC_DIGEST | build TAR OUT [FILE...]")
	}
}
