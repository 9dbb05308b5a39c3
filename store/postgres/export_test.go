package postgres

// Crash ends the replica as a crash would: its connections drop without a
// word, so its advisory lock goes and nothing of it is released.
func (s *Store) Crash() {
	s.mu.Lock()
	if s.life != nil {
		s.life.PgConn().Conn().Close()
	}
	s.mu.Unlock()
	s.housekeeping.Stop()
	s.pool.Reset()
}
