variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored"
  type        = number
  default     = 30
}
