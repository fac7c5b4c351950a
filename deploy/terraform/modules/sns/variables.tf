variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarms topic"
  type        = list(string)
  default     = []
}
