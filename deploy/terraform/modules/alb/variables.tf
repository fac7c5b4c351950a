variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  type = string
}

variable "vpc_cidr" {
  description = "Where the targets are (egress of the ALB)"
  type        = string
}

variable "public_subnet_ids" {
  type = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate of the site's host name (in the ALB's region)"
  type        = string
}

variable "ingress_cidrs" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}

variable "target_port" {
  description = "nginx's HTTP port in its container"
  type        = number
  default     = 8080
}

variable "health_check_path" {
  type    = string
  default = "/healthz"
}

variable "deletion_protection" {
  type    = bool
  default = true
}
