package web

import "github.com/labstack/echo/v4"

// boardRoutes mounts the Kanban board pages under /o/:org.
func (s *Server) boardRoutes(o *echo.Group) {}
