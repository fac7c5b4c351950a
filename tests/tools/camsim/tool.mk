camsim_PKGS := gstreamer-rtsp-server-1.0 gstreamer-app-1.0 gstreamer-1.0 gio-2.0 glib-2.0
camsim_LIBS := -lm
