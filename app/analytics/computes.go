package analytics

// Computes tells whether the engine computes the metric key: it is defined and its family
// is part of the engine. Pages that show a figure before its family exists show "—".
func (s *Service) Computes(key string) bool {
	d, ok := DefinitionOf(key)
	if !ok {
		return false
	}
	_, ok = s.families[d.Family]
	return ok
}
