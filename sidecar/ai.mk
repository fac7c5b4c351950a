# AI pipeline (issue #8): sources, libraries and the vms-ai tool.
# Included by sidecar/Makefile (see its header for the variables).
AI_SRCS := $(sort $(wildcard analysis/ai/*.c))
# analysis/ai/vmsd/: the ties to vmsd (events, PostgreSQL, metrics, API), not in vms-ai
VMSD_SRCS     += $(sort $(wildcard analysis/ai/vmsd/*.c))
VMSD_SRCS     += $(AI_SRCS)
VMSD_CXX_SRCS += analysis/ai/cascade.cpp analysis/ai/hog.cpp
VMSD_PKGS     += jansson libcurl tesseract libcrypto
# OpenCV only for analysis/ai/cascade.cpp and hog.cpp, and only the three libraries they use
VMSD_CXXFLAGS += $(call pc_cflags,opencv4)
AI_OPENCV_LIBS := -lopencv_objdetect -lopencv_imgproc -lopencv_core
VMSD_LIBS     += $(AI_OPENCV_LIBS)

# vms-ai: the pipeline on files (tests, bench/ai_bench.py, trying a config)
EXTRA_BINS    += vms-ai
vms-ai_SRCS   := analysis/ai/tool/vms_ai.c $(AI_SRCS) analysis/ai/cascade.cpp analysis/ai/hog.cpp \
                 base/util.c \
                 base/secret.c base/secret_file.c base/secret_aws.c \
                 base/confkey.c
vms-ai_PKGS   := libavformat libavcodec libavutil libswscale jansson libcurl \
                 tesseract libcrypto
vms-ai_LIBS   := $(AI_OPENCV_LIBS) -lm
