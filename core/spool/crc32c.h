/* crc32c.h - CRC-32C (Castagnoli, the polynomial of iSCSI, ext4 and Kafka record batches). */
#ifndef INLET_CRC32C_H
#define INLET_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc (0 to start) over len bytes of p. */
uint32_t inlet_crc32c(uint32_t crc, const void *p, size_t len);

#endif
