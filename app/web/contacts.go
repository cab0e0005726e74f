package web

import "github.com/labstack/echo/v4"

// contactRoutes mounts the contact pages under /o/:org.
func (s *Server) contactRoutes(o *echo.Group) {}
