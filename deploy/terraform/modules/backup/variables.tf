variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "resource_arns" {
  description = "ARNs backed up (RDS instance, EFS file system, S3 backups bucket)"
  type        = list(string)
}

variable "retention_days" {
  type    = number
  default = 35
}

variable "dr_vault_arn" {
  description = "Backup vault in the DR region receiving a copy (empty: no copy)"
  type        = string
  default     = ""
}

variable "sns_topic_arn" {
  description = "Topic told about failed backup, restore and copy jobs"
  type        = string
}
