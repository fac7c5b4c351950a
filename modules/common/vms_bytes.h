/* Big-endian field readers and writers: the MP4 box code (ISO BMFF stores every integer
 * big-endian) and vmsd's event spool records.  nginx-free, header-only: shared by the
 * playback core and module, vmsd, their unit tests and fuzz targets.  Callers check bounds
 * before calling. */
#ifndef VMS_BYTES_H
#define VMS_BYTES_H

#include <stdint.h>

static inline uint16_t
vms_be16(const unsigned char *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t
vms_be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static inline uint64_t
vms_be64(const unsigned char *p)
{
    return (uint64_t) vms_be32(p) << 32 | vms_be32(p + 4);
}

static inline void
vms_put_be16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char) (v >> 8);
    p[1] = (unsigned char) v;
}

static inline void
vms_put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

#endif /* VMS_BYTES_H */
