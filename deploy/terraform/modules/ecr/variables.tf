variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "repositories" {
  description = "Repository names (one per image)"
  type        = list(string)
  default     = ["vmsd", "nginx"]
}

variable "keep_images" {
  description = "Images kept per repository (enough to roll back)"
  type        = number
  default     = 30
}
