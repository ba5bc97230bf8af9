package bolt

import (
	"bytes"
	"fmt"
	"os"

	"go.etcd.io/bbolt"
)

// scrubFreePages overwrites with zeros every page of the file that bbolt
// holds free or pending, after a commit that removed key material and before
// that commit is acknowledged. bbolt copies each page it changes to a new
// one and only frees the old copy, so the destroyed record would otherwise
// stay in the file until the page is reused. The freed pages are no longer
// reachable from the committed meta page (already synced), and the store's
// lock keeps every read transaction of this process out meanwhile (bbolt
// lets one process open the file), so nothing can be reading them. A scrub
// that fails is tried again after the next commit.
func (s *Store) scrubFreePages() {
	if !s.scrub {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.zeroFreePages(); err == nil {
		s.scrub = false
	}
}

// zeroFreePages writes zeros over the free and pending pages that are not
// zero already, and syncs the file.
func (s *Store) zeroFreePages() error {
	var free []int
	err := s.db.View(func(tx *bbolt.Tx) error {
		for id := 2; ; id++ { // pages 0 and 1 are the meta pages
			p, err := tx.Page(id)
			if err != nil {
				return err
			}
			if p == nil {
				return nil // past the high-water mark
			}
			if p.Type == "free" {
				free = append(free, id)
			}
		}
	})
	if err != nil || len(free) == 0 {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	size := s.db.Info().PageSize
	page, zero := make([]byte, size), make([]byte, size)
	wrote := false
	for _, id := range free {
		off := int64(id) * int64(size)
		if _, err := f.ReadAt(page, off); err != nil {
			return fmt.Errorf("read page %d: %w", id, err)
		}
		if bytes.Equal(page, zero) {
			continue
		}
		if _, err := f.WriteAt(zero, off); err != nil {
			return fmt.Errorf("zero page %d: %w", id, err)
		}
		wrote = true
	}
	if !wrote {
		return nil
	}
	return f.Sync()
}
