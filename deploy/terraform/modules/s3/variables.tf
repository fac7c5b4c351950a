variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "recordings_retention_days" {
  description = "Days a recording object is kept (the site's retention: 7, 15, 30 ...)"
  type        = number
}

variable "recordings_ia_days" {
  description = "Days after which recordings move to STANDARD_IA (0: never; ignored if not below the retention)"
  type        = number
  default     = 0
}

variable "detections_retention_days" {
  description = "Days detection snapshots and metadata are kept"
  type        = number
  default     = 90
}

variable "backups_retention_days" {
  description = "Days database dumps (and their old versions) are kept"
  type        = number
  default     = 35
}
